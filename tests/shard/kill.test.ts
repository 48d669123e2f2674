import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeShards } from '../../src/skim/shard/merge.js';
import { runShardedSkim } from '../../src/skim/shard/runShard.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { expandInputs } from '../../src/sources/expandInputs.js';
import { BIN, CUTS, exec, makeRun, skimDifference } from './helpers.js';

let dir: string;
let single: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffskim-kill-'));
  const { inputs } = await makeRun(dir, 8, () => 30_000);
  single = join(dir, 'single');
  await runSkim({ inputs, cuts: structuredClone(CUTS) as never, outDir: single });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Starts shard I/N of the CLI and SIGKILLs it as soon as its manifest shows a finished file. */
async function killMidway(out: string, index: number, count: number): Promise<NodeJS.Signals | null> {
  const child = spawn(
    'node',
    [BIN, '-q', 'skim', '--cuts', 'cuts.json', '--input', 'in', '--output', out, '--shard', `${index}/${count}`],
    { cwd: dir, stdio: 'ignore' },
  );
  const manifest = join(dir, out, 'shards', `${index}-of-${count}`, 'manifest.json');
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  const timer = setInterval(() => {
    if (existsSync(manifest)) child.kill('SIGKILL');
  }, 2);
  try {
    return await exited;
  } finally {
    clearInterval(timer);
  }
}

describe('a shard killed mid-way', () => {
  it('merge names it and prints the re-run command; running that command completes the run exactly', async () => {
    const out = 'out';
    // shard 0 in-process (CLI start-up is slow on a loaded machine), as `cd dir && diffskim skim ... --shard 0/2` would
    const invocation = { cwd: dir, cutsPath: 'cuts.json', inputSpecs: ['in'], outDir: join(dir, out) };
    const inputs = await expandInputs(['in'], dir);
    await runShardedSkim({ inputs, cuts: structuredClone(CUTS) as never, invocation, shard: { index: 0, count: 2 } });
    expect(await killMidway(out, 1, 2)).toBe('SIGKILL');

    // what `diffskim merge` prints before exiting 1 (the CLI's exit code is checked in tests/slurm)
    const failed = await mergeShards(join(dir, out)).catch((e: Error) => e.message);
    expect(failed).toMatch(/not complete \(1 of 2 shard\(s\) to re-run\)/);
    expect(failed).toMatch(/shard 1\/2: incomplete \(killed, failed or still running\): [1-3] of 4 input/);
    expect(failed).not.toMatch(/shard 0\/2/);
    const commands = (failed as string).split('\n').filter((l) => l.startsWith('  cd '));
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatch(/--shard 1\/2$/);

    const rerun = await exec('sh', ['-c', commands[0].trim()]);
    expect(rerun.stdout).toMatch(/shard 1-of-2: 4 file\(s\) of 8, [1-3] already done before/);
    const report = await mergeShards(join(dir, out));
    expect(report.skimFiles).toHaveLength(8);
    expect(JSON.parse(await readFile(join(dir, out, 'report.json'), 'utf8')).eventsKept).toBe(report.eventsKept);
    expect(await skimDifference(join(dir, out), single)).toEqual({ rowsA: report.eventsKept, differ: 0 });
  });
});
