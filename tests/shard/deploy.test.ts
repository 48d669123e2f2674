import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { register as registerMerge } from '../../src/cli/commands/merge.js';
import { register as registerSubmit } from '../../src/cli/commands/submit.js';
import { invocationOf } from '../../src/cli/shard.js';
import { mergeShards } from '../../src/skim/shard/merge.js';
import { inOwnFolders } from '../../src/skim/outputPaths.js';
import { runShardedSkim } from '../../src/skim/shard/runShard.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { BIN, CUTS, makeRun, skimDifference } from './helpers.js';

const execAsync = promisify(execFile);
let dir: string;
let single: string;
let inputs: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffskim-deploy-'));
  ({ inputs } = await makeRun(dir, 5));
  single = join(dir, 'single');
  await runSkim({ inputs, cuts: structuredClone(CUTS) as never, outDir: single });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `diffskim <command> ...` in-process (a fresh commander program; CLI start-up is slow on a loaded machine). */
async function command(args: string[]): Promise<string> {
  const program = new Command('diffskim').exitOverride();
  registerSubmit(program);
  registerMerge(program);
  const lines: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void lines.push(a.join(' ')));
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    log.mockRestore();
  }
  return lines.join('\n');
}

describe('submit --slurm', () => {
  it('writes a job-array script whose tasks, run by hand as SLURM would, make the complete skim', async () => {
    const out = join(dir, 'out');
    const stdout = await command([
      'submit',
      '--slurm',
      '--cuts',
      join(dir, 'cuts.json'),
      '--input',
      join(dir, 'in'),
      '--output',
      out,
      '--tasks',
      '2',
      '--partition',
      'short',
      '--time',
      '0:30:00',
      '--mem',
      '2G',
    ]);
    const script = join(out, 'shards', 'slurm-array.sh');
    expect(stdout).toContain(`wrote ${script} (2 tasks over 5 input file(s))`);
    const text = await readFile(script, 'utf8');
    const directives = text.split('\n').filter((l) => l.startsWith('#SBATCH '));
    // Paths (and the job name) quoted: sbatch splits #SBATCH lines at unquoted spaces.
    for (const d of [
      '--array=0-1',
      '--partition=short',
      '--time=0:30:00',
      '--mem=2G',
      '--job-name="diffskim-skim"',
      `--chdir="${process.cwd()}"`,
      `--output="${join(out, 'shards', 'logs', '%A_%a.out')}"`,
    ])
      expect(directives).toContain(`#SBATCH ${d}`);
    expect(text).toContain(`--shard "$SLURM_ARRAY_TASK_ID/2"`);
    // Another submit of other shards into this unfinished run is refused, and its script kept.
    await expect(
      command([
        'submit',
        '--slurm',
        '--cuts',
        join(dir, 'cuts.json'),
        '--input',
        join(dir, 'in'),
        '--output',
        out,
        '--tasks',
        '3',
      ]),
    ).rejects.toThrow(/belongs to another sharded run \(2 shards, now 3\)/);
    expect(await readFile(script, 'utf8')).toBe(text);

    // SLURM runs the script once per array index with SLURM_ARRAY_TASK_ID set (and a cwd of its own);
    // task 0 runs in-process (CLI start-up is slow on a loaded machine), task 1 through the script
    await Promise.all([
      runShardedSkim({
        inputs: inOwnFolders(inputs),
        cuts: structuredClone(CUTS) as never,
        invocation: invocationOf({ cuts: join(dir, 'cuts.json'), input: [join(dir, 'in')], output: out }),
        shard: { index: 0, count: 2 },
      }),
      execAsync('bash', [script], {
        cwd: tmpdir(),
        env: { ...process.env, SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' },
      }),
    ]);
    const merged = await command(['merge', out]);
    expect(merged).toMatch(/merged 2 shard\(s\): 5 skim file\(s\)\n.*\nevents: \d+ in, \d+ kept/);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.shards.map((s: { inputs: number }) => s.inputs).sort()).toEqual([2, 3]);
    expect(await skimDifference(out, single)).toEqual({ rowsA: report.eventsKept, differ: 0 });
  });

  it('needs a batch system and a sane task count', async () => {
    const common = ['--cuts', join(dir, 'cuts.json'), '--input', join(dir, 'in'), '--output', join(dir, 'x')];
    await expect(command(['submit', ...common, '--tasks', '2'])).rejects.toThrow(/choose a batch system: --slurm/);
    await expect(command(['submit', '--slurm', ...common, '--tasks', '0'])).rejects.toThrow(/--tasks '0'/);
    await expect(command(['merge', join(dir, 'x')])).rejects.toThrow(/plan\.json not found/);
    // A score cut needs the model, which sharded skims do not apply: refused before any task runs.
    const scored = join(dir, 'scored-cuts.json');
    await writeFile(scored, JSON.stringify({ cuts: [], score: { op: '>', value: 0.5 } }));
    await expect(
      command([
        'submit',
        '--slurm',
        '--cuts',
        scored,
        '--input',
        join(dir, 'in'),
        '--output',
        join(dir, 'x'),
        '--tasks',
        '2',
      ]),
    ).rejects.toThrow(/has a score cut: a sharded skim applies hard cuts only/);
  });
});

describe('deploy/k8s-skim-job.yaml', () => {
  const load = async (name: string) => {
    const docs = parseAllDocuments(await readFile(join(import.meta.dirname, '../../deploy', name), 'utf8'));
    expect(docs).toHaveLength(1);
    return docs[0].toJS();
  };

  it('is an Indexed Job whose shard count matches its completions, on a shared volume', async () => {
    const job = await load('k8s-skim-job.yaml');
    expect(job.kind).toBe('Job');
    expect(job.spec.completionMode).toBe('Indexed');
    const pod = job.spec.template.spec;
    const [c] = pod.containers;
    const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    expect(Number(env.DIFFSKIM_SHARD_COUNT)).toBe(job.spec.completions);
    expect(job.spec.parallelism).toBeLessThanOrEqual(job.spec.completions);
    expect(c.command).toContain('skim');
    expect(c.command).not.toContain('--shard');
    const mount = c.volumeMounts[0];
    expect(c.command.find((a: string) => a.startsWith('/data/'))).toBeDefined();
    expect(
      pod.volumes.find((v: { name: string }) => v.name === mount.name).persistentVolumeClaim.claimName,
    ).toBeTruthy();
    const merge = await load('k8s-merge-job.yaml');
    expect(merge.spec.template.spec.containers[0].command).toEqual([
      'node',
      'bin/diffskim.mjs',
      'merge',
      c.command[c.command.indexOf('--output') + 1],
    ]);
  });

  it('its container command, run as two pods would (JOB_COMPLETION_INDEX), makes the complete skim', async () => {
    const job = await load('k8s-skim-job.yaml');
    const [c] = job.spec.template.spec.containers;
    const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    // the volume's /data is our temp folder; two shards instead of the file's count, to keep the test short
    const args = (c.command as string[]).slice(2).map((a) =>
      a
        .replace(/^\/data\//, `${dir}/`)
        .replace(`${dir}/input`, `${dir}/in`)
        .replace(`${dir}/skim`, `${dir}/k8s`),
    );
    expect(c.command.slice(0, 2)).toEqual(['node', 'bin/diffskim.mjs']);
    // pod 1 through the command; pod 0 in-process, with what that command parses to
    const opt = (name: string) => args[args.indexOf(name) + 1];
    const invocation = invocationOf({ cuts: opt('--cuts'), input: [opt('--input')], output: opt('--output') });
    await Promise.all([
      runShardedSkim({
        inputs: inOwnFolders(inputs),
        cuts: structuredClone(CUTS) as never,
        invocation,
        shard: { index: 0, count: 2 },
      }),
      execAsync('node', [BIN, ...args], {
        env: { ...process.env, ...env, DIFFSKIM_SHARD_COUNT: '2', JOB_COMPLETION_INDEX: '1' },
      }),
    ]);
    const report = await mergeShards(join(dir, 'k8s'));
    expect(report.shards).toHaveLength(2);
    expect(await skimDifference(join(dir, 'k8s'), single)).toEqual({ rowsA: report.eventsKept, differ: 0 });
  });
});
