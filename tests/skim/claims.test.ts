import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claim, ClaimedError } from '../../src/skim/claims.js';
import { tempDir } from '../parquet/helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

describe('claim', () => {
  it('holds a path against a second claimer until released, and leaves nothing behind', async () => {
    const path = join(dir, 'a.skim.parquet');
    const release = await claim(path, 'test');
    const second = await claim(path, 'test').catch((e: unknown) => e);
    expect(second).toBeInstanceOf(ClaimedError);
    expect((second as ClaimedError).holder.pid).toBe(process.pid);
    await release();
    await (
      await claim(path, 'test')
    )();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a claim left empty by a claimer killed while writing it', async () => {
    const path = join(dir, 'b.skim.parquet');
    await writeFile(`${path}.claim`, '');
    const release = await claim(path, 'test');
    await release();
    expect(await readdir(dir)).toEqual([]);
  });
});
