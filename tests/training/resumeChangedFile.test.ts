import { execFileSync } from 'node:child_process';
import { mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../faults/helpers.js';
import { toyPipelineYaml } from '../helpers/toyPipeline.js';

/**
 * `run --resume` trusts a checkpoint only for the inputs it was trained on: an input replaced by
 * another file of the same size, rows and weight sums (here a copy with its modification time
 * kept, as `cp -p` or `rsync -t` gives) is refused, naming the file; the same file resumes.
 */
let dir: string;
const pipeline = () => join(dir, 'toy.yaml');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffskim-resume-changed-'));
  await writeFile(
    pipeline(),
    toyPipelineYaml({ events: 4000, training: '{ epochs: 2, batchSize: 1024, seed: 3 }', loss: '{ kind: bce }' }),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('run --resume after an input changed', () => {
  it('resumes on the same file, and refuses one replaced by another of the same size and time', async () => {
    const out = join(dir, 'run');
    expect((await cli(['run', pipeline(), '--out', out])).code).toBe(0);
    const again = await cli(['run', pipeline(), '--out', out, '--resume']);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);

    const input = join(dir, 'toy.parquet');
    const before = await stat(input);
    execFileSync('cp', ['-p', input, `${input}.copy`]);
    await rename(`${input}.copy`, input);
    const after = await stat(input);
    expect([after.size, after.mtimeMs]).toEqual([before.size, before.mtimeMs]);
    expect(after.ino).not.toBe(before.ino);

    const refused = await cli(['run', pipeline(), '--out', out, '--resume']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      `cannot resume from its checkpoint: the input file '${input}' was replaced by another file since`,
    );
    expect(refused.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
