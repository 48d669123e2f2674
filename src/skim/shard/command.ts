import { fileURLToPath } from 'node:url';

/** The CLI entry of this checkout, by absolute path, so printed commands work from any directory. */
export const DIFFSKIM_BIN = fileURLToPath(new URL('../../../bin/diffskim.mjs', import.meta.url));

/** How a sharded skim was started: enough to print the exact command that re-runs one shard. */
export interface SkimInvocation {
  /** Working directory the input specs and paths are relative to. */
  cwd: string;
  cutsPath: string;
  /** Input specs as given (files, directories, globs, @lists). */
  inputSpecs: string[];
  outDir: string;
  keep?: string[];
  codec?: string;
}

/** POSIX shell quoting (left bare when safe). */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `node .../diffskim.mjs skim ... --shard <shardArg>` (without the cd). */
export function skimCommand(inv: SkimInvocation, shardArg: string): string {
  const args = ['skim', '--cuts', inv.cutsPath, '--input', ...inv.inputSpecs, '--output', inv.outDir];
  if (inv.keep) args.push('--keep', inv.keep.join(','));
  if (inv.codec) args.push('--codec', inv.codec);
  return ['node', DIFFSKIM_BIN, ...args.map(shellQuote), '--shard', shardArg].join(' ');
}

/** The command that re-runs shard I of N, from the directory the run was started in. */
export function rerunCommand(inv: SkimInvocation, index: number, count: number): string {
  return `cd ${shellQuote(inv.cwd)} && ${skimCommand(inv, `${index}/${count}`)}`;
}
