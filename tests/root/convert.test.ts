import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { convertRootToParquet } from '../../src/pipeline/convertRoot.js';
import { cutsToSql, type HardCut } from '../../src/selection/cutsFile.js';
import { rootSource } from '../../src/sources/rootSource.js';
import { checksum, duckdbColumns, HZZ, NANO, referenceRead, ZMUMU } from './reference.js';

const dir = mkdtempSync(join(tmpdir(), 'diffskim-convert-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('diffskim convert (ROOT -> Parquet)', () => {
  it('round-trips flat and jagged HZZ branches: DuckDB reads back what jsroot reads', async () => {
    const out = join(dir, 'hzz.parquet');
    const branches = ['NJet', 'Jet_Px', 'Jet_ID', 'Muon_Charge', 'MET_px', 'EventWeight'];
    const r = await convertRootToParquet([HZZ], out, { branches, batchRows: 1000 });
    expect(r).toMatchObject({ rows: 2421, columns: 6 });
    expect(readdirSync(dir)).toEqual(['hzz.parquet']); // no temp file left behind
    const ref = await referenceRead(HZZ, 'events', branches);
    const back = await duckdbColumns(out, branches);
    for (const b of branches) expect(checksum(back[b]), b).toBe(checksum(ref[b]));

    // Cuts pushed into the ROOT source keep the same events as their SQL twin on the Parquet copy.
    const where: HardCut[] = [
      { column: 'first(Jet_Px)', op: '<', value: 10 },
      { column: 'MET_px', op: '>', value: -5 },
    ];
    const kept = await lastValueFrom(
      rootSource([HZZ])
        .batches({ columns: ['NJet'], where })
        .pipe(toArray()),
    );
    const db = await DuckDBInstance.create(':memory:');
    const con = await db.connect();
    const sql = `SELECT count(*)::INTEGER FROM read_parquet('${out}') WHERE ${cutsToSql(where)}`;
    const [[n]] = (await con.runAndReadAll(sql)).getRowsJS();
    con.closeSync();
    db.closeSync();
    expect(n).toBeGreaterThan(100);
    expect(kept.reduce((s, b) => s + b.length, 0)).toBe(n);
  });

  it('writes every readable NanoAOD branch, and derived quantities on request', async () => {
    const out = join(dir, 'nano.parquet');
    const all = await convertRootToParquet([NANO], out);
    expect(all).toMatchObject({ rows: 200, columns: 947, skipped: [] });
    const ref = await referenceRead(NANO, 'Events', ['event', 'nJet', 'Jet_pt', 'MET_pt']);
    const back = await duckdbColumns(out, ['event', 'nJet', 'Jet_pt', 'MET_pt']);
    for (const b of Object.keys(ref)) expect(checksum(back[b]), b).toBe(checksum(ref[b]));

    const derived = join(dir, 'nano-derived.parquet');
    await convertRootToParquet([NANO], derived, { branches: ['count(Jet_pt)', 'first(Jet_pt)'] });
    const d = await duckdbColumns(derived, ['count(Jet_pt)', 'first(Jet_pt)']);
    expect(d['count(Jet_pt)']).toEqual(ref.nJet);
    expect(d['first(Jet_pt)']).toEqual((ref.Jet_pt as number[][]).map((j) => (j.length ? j[0] : NaN)));
  });

  it('the CLI names the branches it cannot convert (a string branch of Zmumu)', async () => {
    const out = join(dir, 'zmumu.parquet');
    const { stdout } = await promisify(execFile)('node', ['bin/diffskim.mjs', 'convert', ZMUMU, out]);
    expect(stdout).toMatch(/2304 events, 19 columns/);
    expect(stdout).toMatch(/skipped branches diffskim cannot read: 'Type' \(a string/);
  });

  it('refuses an output that is one of its inputs (named so, or through a link), leaving it as it was', async () => {
    const input = join(dir, 'self', 'hzz.root');
    mkdirSync(join(dir, 'self'));
    copyFileSync(HZZ, input);
    symlinkSync(input, join(dir, 'self', 'link.parquet'));
    for (const out of [input, join(dir, 'self', 'link.parquet'), join(dir, 'self', '..', 'self', 'hzz.root')])
      await expect(convertRootToParquet([HZZ, input], out)).rejects.toThrow(
        `${out} is the input ${input}: converting would replace it; give another output file`,
      );
    expect(readFileSync(input).equals(readFileSync(HZZ))).toBe(true);
  });

  it('the CLI fails with the missing branch named and writes nothing', async () => {
    const out = join(dir, 'bad.parquet');
    const run = promisify(execFile)('node', ['bin/diffskim.mjs', 'convert', HZZ, out, '--branches', 'NJet,Jet_pt']);
    const err = await run.then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toContain("no branch 'Jet_pt' (closest: Jet_Px");
    expect(existsSync(out)).toBe(false);
  });
});
