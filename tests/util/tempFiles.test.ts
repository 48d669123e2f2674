import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTempFile, removeStaleTempFiles, tempPathOf } from '../../src/util/tempFiles.js';

describe('temporary output names', () => {
  it('are new for every writer, even of one name in one process, and are never taken for outputs', () => {
    const names = new Set(Array.from({ length: 50 }, () => tempPathOf('/data/a.skim.parquet')));
    expect(names.size).toBe(50);
    for (const n of names) expect(isTempFile(n)).toBe(true);
    expect(isTempFile('/data/a.skim.parquet')).toBe(false);
    expect(isTempFile('/data/a.skim.parquet.tmp-123')).toBe(true); // the form older versions wrote
  });

  it('are removed once their writer process is gone, and kept while it runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diffskim-tmp-'));
    try {
      const mine = tempPathOf(join(dir, 'a.parquet'));
      await writeFile(mine, 'x');
      await writeFile(join(dir, 'b.parquet.tmp-999999999-0a1b2c3d'), 'x'); // no such process
      await writeFile(join(dir, 'c.parquet'), 'x');
      expect(await removeStaleTempFiles(dir)).toEqual([join(dir, 'b.parquet.tmp-999999999-0a1b2c3d')]);
      expect((await readdir(dir)).sort()).toEqual([basename(mine), 'c.parquet'].sort());
      // Another machine's (or pod's) writer cannot be checked here: its file is taken as left behind,
      // even when a process of that number runs here (every Kubernetes pod is process 1).
      const elsewhere = join(dir, `d.parquet.tmp-${process.pid}-0a0b0c0d.another-pod-7f9c`);
      await writeFile(elsewhere, 'x');
      expect(await removeStaleTempFiles(dir)).toEqual([elsewhere]);
      // Removing one output's temp files (as the resumable skim does) spares a live writer too.
      await writeFile(join(dir, 'a.parquet.tmp-999999999-ffff0000'), 'x');
      expect(await removeStaleTempFiles(dir, 'a.parquet')).toEqual([join(dir, 'a.parquet.tmp-999999999-ffff0000')]);
      expect((await readdir(dir)).sort()).toEqual([basename(mine), 'c.parquet'].sort());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
