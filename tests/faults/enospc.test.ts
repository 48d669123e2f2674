import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { renderPlot, VEGA_LITE_SCHEMA } from '../../src/plots/render.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { writeJsonAtomic } from '../../src/util/atomicWrite.js';
import { toolMissing } from '../helpers/tools.js';
import { sql } from '../parquet/helpers.js';
import { toyPipelineYaml } from '../helpers/toyPipeline.js';

/**
 * Disk full while writing, on a real 1 MiB tmpfs (needs root and mount(8); see toolMissing).
 */
const base = mkdtempSync(join(tmpdir(), 'diffskim-enospc-'));
const disk = join(base, 'disk');
mkdirSync(disk);
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let input: string;
let inputHash: string;
const hash = async (p: string) =>
  createHash('sha256')
    .update(await readFile(p))
    .digest('hex');
const noCuts = { cuts: [], score: null };

beforeAll(async () => {
  // ~3 MB of incompressible doubles: far more than the 1 MiB disk.
  input = join(base, 'big.parquet');
  await sql(
    `COPY (SELECT i::BIGINT AS id, hash(i)::DOUBLE AS x, hash(i + 1)::DOUBLE AS y FROM range(150000) t(i)) TO '${input}' (FORMAT parquet, COMPRESSION uncompressed)`,
  );
  inputHash = await hash(input);
});
afterAll(() => {
  if (mounted) execFileSync('umount', [disk]);
  rmSync(base, { recursive: true, force: true });
});

const noTmpfs = toolMissing('a 1 MiB tmpfs (root and mount(8))', mounted ? null : 'mount -t tmpfs failed');

describe.skipIf(noTmpfs)('disk full (ENOSPC) on a 1 MiB tmpfs', () => {
  it('in-engine skim: a clear error naming the input and output, no temp file left, input untouched', async () => {
    const out = join(disk, 'copy');
    const e = await runSkim({ inputs: [input], cuts: noCuts, outDir: out }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(
      new RegExp(`^${input}: skim to ${join(out, 'big.skim.parquet')}: .*(No space left on device|ENOSPC)`),
    );
    expect(await readdir(out)).toEqual([]);
    expect(await hash(input)).toBe(inputHash);
  });

  it('streaming skim (Parquet sink): the same', async () => {
    const out = join(disk, 'stream');
    const score = { fn: (b: { length: number }) => new Float32Array(b.length).fill(1), threshold: 0 };
    const e = await runSkim({ inputs: [input], cuts: noCuts, outDir: out, score }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(
      new RegExp(`^${join(out, 'big.skim.parquet')}: cannot write Parquet: .*(ENOSPC|no space left)`, 'i'),
    );
    expect(await readdir(out)).toEqual([]);
    expect(await hash(input)).toBe(inputHash);
  });

  it('report.json (atomic write): an error, and no partial report', async () => {
    const e = await writeJsonAtomic(join(disk, 'report.json'), { big: 'x'.repeat(2_000_000) }).catch((x: Error) => x);
    expect((e as Error).message).toMatch(new RegExp(`^cannot write ${join(disk, 'report.json')}: ENOSPC`));
    expect((await readdir(disk)).filter((n) => n.startsWith('report.json'))).toEqual([]);
  });

  it('a plot: an error naming the plot file, and no partial or temporary plot file', async () => {
    // Fill the disk to the last byte (the write stops at ENOSPC), so that the plot cannot fit.
    const filler = join(disk, 'filler');
    await writeFile(filler, Buffer.alloc(2 << 20)).catch(() => {});
    try {
      const spec = {
        $schema: VEGA_LITE_SCHEMA,
        data: {
          values: [
            { x: 0, y: 0 },
            { x: 1, y: 1 },
          ],
        },
        mark: 'line' as const,
        encoding: { x: { field: 'x' }, y: { field: 'y' } },
      };
      const e = await renderPlot(spec, join(disk, 'roc')).catch((x: Error) => x);
      expect((e as Error).message).toMatch(new RegExp(`^cannot write ${join(disk, 'roc.svg')}: ENOSPC`));
      expect((await readdir(disk)).filter((n) => n.startsWith('roc'))).toEqual([]);
    } finally {
      await rm(filler, { force: true });
    }
  });

  it('diffskim run: the error names the file it could not write, and every file left is complete', async () => {
    // The input lives off the small disk; the run folder on it.
    const home = join(base, 'pipeline');
    await mkdir(home, { recursive: true });
    await writeFile(
      join(home, 'toy.yaml'),
      toyPipelineYaml({ events: 12000, training: '{ epochs: 2, batchSize: 2048, seed: 3 }' }),
    );
    const out = join(disk, 'run');
    const e = (await runPipeline(join(home, 'toy.yaml'), { outDir: out }).catch((x: Error) => x)) as Error;
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toMatch(new RegExp(`${out}/\\S+: .*(ENOSPC|no space left)`, 'i'));
    const files = (await readdir(out, { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const path = join(f.parentPath, f.name);
      expect(path).not.toContain('.tmp-');
      const bytes = await readFile(path);
      // Complete files: PNGs end with their IEND chunk, SVGs with </svg>, JSON parses.
      if (f.name.endsWith('.png')) expect(bytes.subarray(-8).toString('latin1'), path).toBe('IEND\xaeB`\x82');
      if (f.name.endsWith('.svg')) expect(bytes.toString().trimEnd().endsWith('</svg>'), path).toBe(true);
      if (f.name.endsWith('.json')) expect(() => JSON.parse(bytes.toString()), path).not.toThrow();
    }
  }, 120_000);
});
