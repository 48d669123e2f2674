import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataRoots } from '../../src/grpc/dataRoots.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'diffskim-roots-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('DataRoots.scrub', () => {
  it('shows server paths relative to their root, also when one root name is the start of another', async () => {
    for (const d of ['hep', 'hep-mc']) mkdirSync(join(base, d));
    const roots = await DataRoots.open([join(base, 'hep'), join(base, 'hep-mc')]);
    expect(roots.scrub(`${base}/hep-mc/ttbar/a.parquet: file is empty; ${base}/hep/b.parquet too; root ${base}/hep`)).toBe('ttbar/a.parquet: file is empty; b.parquet too; root .');
  });
});
