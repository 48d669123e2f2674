/**
 * CLI start-up: `diffskim --help` and each command's `--help`, run with node directly, from the
 * compiled dist/ (bin/diffskim.mjs when the build is current) against the TypeScript sources
 * through tsx (what the CLI ran before the build), alternating, median of N runs each; and what
 * bin/diffskim.mjs's check that dist/ is up to date costs.
 *
 *   npx tsx scripts/bench-startup.ts [N]      (default 7; builds dist/ first when it is stale)
 */
import { spawnSync } from 'node:child_process';
import { buildState } from '../bin/buildState.mjs';

const runs = Number(process.argv[2] ?? 7);
const commands = ['', 'run', 'skim', 'eval', 'serve', 'convert', 'merge', 'submit'];

if (spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' }).status !== 0)
  process.exit(1);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seconds one `node ...args --help` takes, wall clock; fails on a non-zero exit or a message on stderr. */
function seconds(args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...args, '--help'], { encoding: 'utf8' });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0 || r.stderr) throw new Error(`node ${args.join(' ')} --help: exit ${r.status}\n${r.stderr}`);
  return s;
}

console.log(`median of ${runs} runs, seconds (limits: --help 0.3, <command> --help 0.5)`);
console.log('command            dist     tsx   tsx/dist');
for (const cmd of commands) {
  const sub = cmd ? [cmd] : [];
  const dist: number[] = [];
  const tsx: number[] = [];
  for (let i = 0; i < runs; i++) {
    dist.push(seconds(['bin/diffskim.mjs', ...sub]));
    tsx.push(seconds(['--import', 'tsx', 'src/cli/main.ts', ...sub]));
  }
  const [d, t] = [median(dist), median(tsx)];
  console.log(
    `${`${cmd || 'diffskim'} --help`.padEnd(16)} ${d.toFixed(3).padStart(6)}  ${t.toFixed(3).padStart(6)}  ${(t / d).toFixed(1).padStart(6)}x`,
  );
}

const checks: number[] = [];
for (let i = 0; i < 50; i++) {
  const t0 = performance.now();
  buildState();
  checks.push(performance.now() - t0);
}
console.log(`dist/ up-to-date check (bin/diffskim.mjs): ${median(checks).toFixed(2)} ms (median of 50, in process)`);
