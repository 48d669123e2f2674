import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { EventBatch } from '../../src/batch/batch.js';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { skimWithResume } from '../../src/skim/resume.js';
import { runShardedSkim } from '../../src/skim/shard/runShard.js';
import { expandInputs } from '../../src/sources/expandInputs.js';
import { readParquetMeta } from '../../src/sources/parquetMeta.js';
import { CUTS, makeRun } from '../shard/helpers.js';

// Every footer read goes through readParquetMeta: counted per file.
vi.mock('../../src/sources/parquetMeta.js', { spy: true });
const reads = (path: string) => vi.mocked(readParquetMeta).mock.calls.filter(([p]) => p === path).length;

/** A score of the batch's `met` (a stand-in classifier). */
const score = {
  fn: (b: EventBatch) => Float32Array.from(b.columns.met.values as Float32Array, (v) => v / 100),
  threshold: 0.4,
  columns: ['met'],
};

describe('a skim reads each Parquet footer once', () => {
  it('skim --model (checked, then skimmed, resumably)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diffskim-footers-'));
    const { inputs } = await makeRun(dir, 3);
    vi.mocked(readParquetMeta).mockClear();
    const cuts = { ...CUTS, cuts: [...CUTS.cuts], score: { op: '>' as const, value: score.threshold } };
    const { result } = await skimWithResume({ inputs, cuts, outDir: join(dir, 'out'), score });
    expect(result.eventsIn).toBe(1500 + 2000 + 2500);
    expect(result.eventsKept).toBeGreaterThan(0);
    expect(inputs.map(reads)).toEqual([1, 1, 1]);
  });

  it('a shard (planned, checked, then skimmed)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diffskim-footers-'));
    const { inputs, cutsPath } = await makeRun(dir, 3);
    vi.mocked(readParquetMeta).mockClear();
    const outDir = join(dir, 'out');
    const cuts = { ...CUTS, cuts: [...CUTS.cuts] };
    const invocation = { cwd: dir, cutsPath, inputSpecs: inputs, outDir };
    const shard = { index: 0, count: 1 };
    const report = await runShardedSkim({ inputs: await expandInputs(inputs), cuts, invocation, shard });
    expect(report.inputs.length).toBe(3);
    expect(inputs.map(reads)).toEqual([1, 1, 1]);
  });

  it("a run's skim (the footers its training read)", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diffskim-footers-'));
    await writeFile(
      join(dir, 'toy.yaml'),
      `name: toy
source: { kind: parquet, paths: [toy.parquet], generate: toy2d, generateEvents: 2000 }
label: label
features: [x, y]
cuts: [{ column: x, op: ">" }]
training: { epochs: 1, batchSize: 1024, seed: 5 }
skim: { scoreCut: 0.5 }
`,
    );
    const report = await runPipeline(join(dir, 'toy.yaml'), { outDir: join(dir, 'run') });
    expect(report.eventsKept).toBeGreaterThan(0);
    expect(reads(join(dir, 'toy.parquet'))).toBe(1);
  });
});
