import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/sources/inputError.js';
import { readParquetMeta } from '../../src/sources/parquetMeta.js';

// Whether an error already names the file is decided by its class, not by its text: DuckDB's
// own message about a file named 'Invalid' starts with that name ("Invalid Input Error: ..."),
// and must still be explained and put after the file's name.
describe('a reader error is explained whatever its text', () => {
  let dir: string;
  const cwd = process.cwd();
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-fileerror-'));
    await writeFile(join(dir, 'Invalid'), Buffer.alloc(100, 7)); // not Parquet, not empty
    process.chdir(dir);
  });
  afterAll(async () => {
    process.chdir(cwd);
    await rm(dir, { recursive: true, force: true });
  });

  it("names the file and the footer, in one line, for DuckDB's error on a file named like it", async () => {
    const e = await readParquetMeta('Invalid').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).kind).toBe('unreadable');
    const message = (e as Error).message;
    const explained = /^Invalid: cannot read Parquet metadata \(footer; corrupt or truncated file\?\): .*magic bytes/;
    expect(message).toMatch(explained);
    expect(message).not.toContain('\n');
  });
});
