import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../faults/helpers.js';
import { tempDir } from '../parquet/helpers.js';

/**
 * `diffskim export`: the RDataFrame and ServiceX targets against golden files (no ROOT or
 * uproot here; the files were reviewed against ROOT's RDataFrame and VecOps documentation and
 * ServiceX's uproot-raw query documentation, see docs/export.md), the score cut refused unless
 * dropped on purpose, and the output written whole.
 */
const golden = join(import.meta.dirname, 'golden');
const cutsPath = join(golden, 'cuts.json');
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

describe('diffskim export', () => {
  it('refuses the score cut, naming it and the way out, and writes nothing', async () => {
    const output = join(dir, 'refused.txt');
    const r = await cli(['export', cutsPath, '--to', 'rdf', '-o', output]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/score cut \(score > 0\.73\).*--without-score/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    await expect(readFile(output)).rejects.toThrow(/ENOENT/);
  });

  it('--to rdf: the RDataFrame Filter string of the golden file, saying what is dropped', async () => {
    const r = await cli(['export', cutsPath, '--to', 'rdf', '--without-score']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await readFile(join(golden, 'cuts.rdf.txt'), 'utf8'));
    expect(r.stderr).toMatch(/dropped the score cut \(score > 0\.73\)/);
  });

  it('--to servicex: the request file of the golden file, written to --output', async () => {
    const output = join(dir, 'request.yaml');
    const args = [
      '--dataset',
      'user.me:ttbar.v1',
      '--tree',
      'Events',
      '--branches',
      'lead_mu_eta',
      'Jet_*',
      '-o',
      output,
    ];
    const r = await cli(['export', cutsPath, '--to', 'servicex', '--without-score', ...args]);
    expect(r.code).toBe(0);
    expect(await readFile(output, 'utf8')).toBe(await readFile(join(golden, 'cuts.servicex.yaml'), 'utf8'));
  });

  it('--to servicex needs the dataset and the tree', async () => {
    const r = await cli(['export', cutsPath, '--to', 'servicex', '--without-score', '--tree', 'Events']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--dataset/);
  });

  it('--to rdf refuses a column name that C++ cannot name, saying which', async () => {
    const path = join(dir, 'odd.json');
    await writeFile(path, JSON.stringify({ cuts: [{ column: '"a b"', op: '>', value: 1 }] }));
    const r = await cli(['export', path, '--to', 'rdf']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/column 'a b' is not a C\+\+ identifier/);
  });

  it('refuses to write over the cuts file it reads', async () => {
    const path = join(dir, 'cuts.json');
    const text = await readFile(cutsPath, 'utf8');
    await writeFile(path, text);
    const r = await cli(['export', path, '--to', 'sql', '--without-score', '-o', join(dir, '.', 'cuts.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is the cuts file itself/);
    expect(await readFile(path, 'utf8')).toBe(text);
  });
});
