import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveModel } from '../../src/model/io.js';
import { sql, tempDir, toyEvents, toyModel, writeParquet } from './helpers.js';

const run = promisify(execFile);
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await writeParquet(join(dir, 'new.parquet'), toyEvents(3000, 9));
  // A run folder as `diffskim run` leaves it: model/ and cuts.json (here with a score cut).
  await saveModel(join(dir, 'run', 'model'), toyModel());
  await writeFile(join(dir, 'run', 'cuts.json'), JSON.stringify({ cuts: [{ column: 'x', op: '>', value: 1 }], score: { op: '>', value: 0.5 } }));
});
afterAll(() => cleanup?.());

describe('diffskim eval', () => {
  it('evaluates a run folder with its cuts.json and writes eval.json, plots, report.html and the friend file', async () => {
    const out = join(dir, 'out');
    const friend = join(dir, 'scores.parquet');
    const { stdout } = await run('node', ['bin/diffskim.mjs', '-q', 'eval', '-m', join(dir, 'run'), '-i', join(dir, 'new.parquet'), '-l', 'label', '-o', out, '--friend', friend, '--efficiencies', '0.6,0.8']);
    expect(stdout).toMatch(/^events: {6}3000 \(\d+ signal, \d+ background\)/);
    expect(stdout).toMatch(/AUC: {9}0\.\d{4}/);
    expect(stdout).toMatch(/eps_S {2}60\.0%: {2}score > /);
    expect((await readdir(out)).sort()).toEqual(['cut-1-x.png', 'cut-1-x.svg', 'eval.json', 'report.html', 'roc.png', 'roc.svg', 'scores.png', 'scores.svg']);
    const e = JSON.parse(await readFile(join(out, 'eval.json'), 'utf8'));
    expect(e.cutsFile).toBe(join(dir, 'run', 'cuts.json'));
    expect(e.cutFlow.map((r: { step: string }) => r.step)).toEqual(['all events', 'x > 1', 'score > 0.5']);
    expect(e.workingPoints.map((w: { targetSignalEfficiency: number }) => w.targetSignalEfficiency)).toEqual([0.6, 0.8]);
    expect(e.plots).toEqual(['roc.png', 'scores.png', 'cut-1-x.png']);
    const [{ n, kept }] = await sql(`SELECT count(*) AS n, sum(passes::INT) AS kept FROM read_parquet('${friend}')`);
    expect(Number(n)).toBe(3000);
    expect(Number(kept)).toBe(e.savedCuts.eventsKept);
  });

  it('explains what is missing', async () => {
    const noModel = await run('node', ['bin/diffskim.mjs', '-q', 'eval', '-m', dir, '-i', join(dir, 'new.parquet')]).catch((e) => e);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/no model.json here or in .*model/);
    const badEff = await run('node', ['bin/diffskim.mjs', 'eval', '-m', join(dir, 'run'), '-i', 'x.parquet', '--efficiencies', '0.5,2']).catch((e) => e);
    expect(badEff.code).toBe(1);
    expect(badEff.stderr).toMatch(/expected comma-separated fractions in \(0, 1\], got '0.5,2'/);
  });

  it('has help with defaults and examples', async () => {
    const { stdout } = await run('node', ['bin/diffskim.mjs', 'eval', '--help']);
    expect(stdout).toMatch(/Usage: diffskim eval \[options\]/);
    expect(stdout).toMatch(/--out <dir>\s+output folder \(default: "eval"\)/);
    expect(stdout).toMatch(/Examples:\n\s+\$ diffskim eval --model/);
  });
});
