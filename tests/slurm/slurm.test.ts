import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSkim } from '../../src/skim/runSkim.js';
import { CUTS, cli, makeRun, skimDifference } from '../shard/helpers.js';
import { toolMissing } from '../helpers/tools.js';

/** Why SLURM cannot be used here, or null when sbatch is there and a node is ready. */
function slurmUnavailable(): string | null {
  try {
    execFileSync('sbatch', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'sbatch is not on PATH';
  }
  try {
    const states = execFileSync('sinfo', ['-h', '-o', '%T'], { encoding: 'utf8', timeout: 10_000 });
    if (!/^(idle|mixed|allocated|completing)/m.test(states))
      return `no SLURM node is ready (sinfo: ${states.trim() || 'nothing'})`;
  } catch (e) {
    return `sinfo failed: ${(e as Error).message.split('\n')[0]}`;
  }
  return null;
}

const unavailable = slurmUnavailable();
const noSlurm = toolMissing('a one-node SLURM (as root: scripts/slurm-up.sh)', unavailable);

describe.skipIf(noSlurm)('on a real SLURM: submit --run, then merge', () => {
  let dir: string;
  let single: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-slurm-'));
    const { inputs } = await makeRun(dir, 8);
    single = join(dir, 'single');
    await runSkim({ inputs, cuts: structuredClone(CUTS) as never, outDir: single });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it(
    'a 4-task job array over 8 files merges into the single-process skim, row for row',
    { timeout: 300_000 },
    async () => {
      const submitted = await cli(
        [
          'submit',
          '--slurm',
          '--cuts',
          'cuts.json',
          '--input',
          'in',
          '--output',
          'out',
          '--tasks',
          '4',
          '--time',
          '0:10:00',
          '--job-name',
          'diffskim-test',
          '--run',
          '--wait',
        ],
        { cwd: dir },
      );
      const logs = join(dir, 'out', 'shards', 'logs');
      const logText = async () =>
        (await Promise.all((await readdir(logs)).map((f) => readFile(join(logs, f), 'utf8')))).join('\n');
      expect(submitted.code, `${submitted.stderr}\n${await logText().catch(() => '')}`).toBe(0);
      expect(submitted.stdout).toMatch(/job \d+: all 4 tasks ended/);
      expect(await readdir(logs)).toHaveLength(4);
      expect(await logText()).toMatch(/shard 3-of-4: 2 file\(s\) of 8/);

      const merged = await cli(['merge', 'out'], { cwd: dir });
      expect(merged.code, merged.stderr).toBe(0);
      expect(merged.stdout).toMatch(/merged 4 shard\(s\): 8 skim file\(s\)/);
      const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8'));
      expect(report.shards.map((s: { inputs: number }) => s.inputs)).toEqual([2, 2, 2, 2]);
      expect(await skimDifference(join(dir, 'out'), single)).toEqual({ rowsA: report.eventsKept, differ: 0 });
    },
  );

  it(
    'a lost shard is named by merge and re-run alone with the printed sbatch --array command',
    { timeout: 300_000 },
    async () => {
      await rm(join(dir, 'out', 'shards', '2-of-4'), { recursive: true });
      const failed = await cli(['merge', 'out'], { cwd: dir });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/shard 2\/4: has not run/);
      const sbatchLine = failed.stderr.split('\n').find((l) => l.trim().startsWith('sbatch '));
      expect(sbatchLine).toMatch(/sbatch --array=2 out\/shards\/slurm-array\.sh/);
      // the re-run task sees SLURM_ARRAY_TASK_COUNT=1: the script must still run shard 2 of 4
      const command = sbatchLine!
        .split('#')[0]
        .trim()
        .replace(/^sbatch /, 'sbatch --wait ');
      execFileSync('sh', ['-c', command], { cwd: dir, stdio: 'ignore' });
      const merged = await cli(['merge', 'out'], { cwd: dir });
      expect(merged.code, merged.stderr).toBe(0);
      const report = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8'));
      expect(await skimDifference(join(dir, 'out'), single)).toEqual({ rowsA: report.eventsKept, differ: 0 });
    },
  );
});
