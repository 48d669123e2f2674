import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openEvalInput } from '../../src/eval/inputs.js';
import { HZZ } from '../root/reference.js';

const dir = mkdtempSync(join(tmpdir(), 'diffskim-evalin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('eval inputs', () => {
  it('a directory of ROOT files is read as ROOT, as convert and the ROOT source take it', async () => {
    const roots = join(dir, 'roots');
    mkdirSync(roots);
    copyFileSync(HZZ, join(roots, 'hzz.root'));
    const input = await openEvalInput([roots]);
    expect(input.kind).toBe('ROOT');
    expect((await input.source.describe()).rows).toBe(2421);
  });

  it('a directory holding both kinds is refused, naming it', async () => {
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    copyFileSync(HZZ, join(mixed, 'hzz.root'));
    writeFileSync(join(mixed, 'x.parquet'), '');
    await expect(openEvalInput([mixed])).rejects.toThrow(`${mixed} holds both ROOT and Parquet files`);
  });
});
