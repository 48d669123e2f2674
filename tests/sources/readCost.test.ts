import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bytesRead,
  fileBytes,
  type FileBytes,
  skimCost,
  trainingCost,
  warmUp,
  writeWideFile,
} from '../../scripts/read-cost.js';
import { tempDir } from '../parquet/helpers.js';

/**
 * A training and a skim (skim.keep) that use 3 columns of a 900-column file read those columns'
 * chunks, once per pass, and the footer (DuckDB reads it with every query): nothing of the other
 * 897 columns. Bytes read are the process's (/proc/self/io rchar); scripts/read-cost.ts prints the
 * figures for a larger file.
 */
let dir: string;
let cleanup: () => Promise<void>;
let path: string;
let bytes: FileBytes;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  path = join(dir, 'wide.parquet');
  await writeWideFile(path, 8000, 900);
  await warmUp(path);
  bytes = await fileBytes(path);
});
afterAll(() => cleanup?.());

describe.skipIf(bytesRead() === null)('reading cost of 3 columns of 900', () => {
  // What a pass may read besides the chunks: footer reads (a few per query) and small reads.
  const beyond = (passes: number) => (3 * passes + 4) * bytes.footer + 256 * 1024;

  it('training reads the 3 columns once per pass, and footers', async () => {
    const cost = await trainingCost(path, 1);
    expect(cost.passes).toBeGreaterThanOrEqual(3);
    expect(cost.read).toBeGreaterThanOrEqual(cost.passes * bytes.used);
    expect(cost.read - cost.passes * bytes.used).toBeLessThan(beyond(cost.passes));
    // One pass over every column would read more than all of it.
    expect(cost.read).toBeLessThan(bytes.others / 4);
  }, 60_000);

  it('a skim keeping the 3 columns reads them once, and footers', async () => {
    const cost = await skimCost(path, join(dir, 'skim'));
    expect(cost.read).toBeGreaterThanOrEqual(bytes.used);
    expect(cost.read - bytes.used).toBeLessThan(beyond(1));
    expect(cost.read).toBeLessThan(bytes.others / 10);
  });
});
