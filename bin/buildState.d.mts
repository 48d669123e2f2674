export declare const ROOT: string;
export declare const STAMP: string;
export declare function sourceFiles(): string[];
export declare function buildState(): { current: boolean; why?: string };
