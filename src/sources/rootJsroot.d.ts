// jsroot ships no types for its sub-module entry points; declare the parts diffskim uses.
declare module 'jsroot/io' {
  export function openFile(path: string): Promise<unknown>;
}

declare module 'jsroot/tree' {
  export class TSelector {
    tgtobj: Record<string, unknown>;
    /** `branch`: its name, or the TBranch object itself. */
    addBranch(branch: string | object, name?: string, direct?: boolean): number;
    ShowProgress(progress?: number): string | undefined | void;
    Process(entry: number): void;
    /** Optional: when defined and every branch is a scalar, jsroot fills tgtarr with runs of events. */
    ProcessArrays?(entry: number): void;
    tgtarr?: Record<string, ArrayLike<unknown>>;
    Terminate(ok: boolean): void;
    Abort(): void;
  }
  export function treeProcess(
    tree: unknown,
    selector: TSelector,
    args?: { firstentry?: number; numentries?: number },
  ): Promise<TSelector>;
}
