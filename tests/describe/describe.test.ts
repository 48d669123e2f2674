import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openFile } from 'jsroot/io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeInputs, type Description } from '../../src/cli/commands/describe.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { startServer } from '../../src/grpc/server.js';
import { sql, tempDir } from '../parquet/helpers.js';
import { NANO } from '../root/reference.js';

const run = promisify(execFile);
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  // Two files of one schema: numbers, a list, a string and a struct (the last two are not read).
  for (const [i, n] of [
    [1, 1500],
    [2, 700],
  ]) {
    await sql(`COPY (SELECT range::INT AS id, (range * 0.5)::FLOAT AS MET_pt, range % 3 = 0 AS HLT_IsoMu24,
        [x::FLOAT for x in range(range % 5)] AS Jet_pt, 'tag' || range AS name, {'pt': range::DOUBLE} AS Muon
      FROM range(${n})) TO '${join(dir, `f${i}.parquet`)}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  }
});
afterAll(() => cleanup?.());

describe('diffskim describe', () => {
  it('gives the columns, types, rows and bytes per column of Parquet files as DuckDB reads them', async () => {
    const d = await describeInputs([dir]);
    const files = `'${join(dir, 'f1.parquet')}', '${join(dir, 'f2.parquet')}'`;
    const [{ n }] = await sql(`SELECT count(*) AS n FROM read_parquet([${files}])`);
    expect(d.rows).toBe(Number(n));
    const perFile = await sql(`SELECT file_name AS path, count(DISTINCT row_group_id) AS g, max(row_group_num_rows) AS r
      FROM parquet_metadata([${files}]) GROUP BY path ORDER BY path`);
    expect(d.files.map((f) => [f.path, f.rows, f.rowGroups])).toEqual(
      perFile.map((r) => [r.path, Number(r.r), Number(r.g)]),
    );
    // Bytes per top-level column: DuckDB's own footer figures, summed over files and row groups.
    const meta = await sql(`SELECT split_part(path_in_schema, ', ', 1) AS col, sum(total_compressed_size) AS b
      FROM parquet_metadata([${files}]) GROUP BY col`);
    const bytes = Object.fromEntries(meta.map((r) => [r.col, Number(r.b)]));
    const byName = Object.fromEntries(d.columns.map((c) => [c.name, c]));
    for (const c of ['id', 'MET_pt', 'HLT_IsoMu24', 'Jet_pt']) {
      expect(byName[c].bytes).toBe(bytes[c]);
      expect(byName[c].bytesPerEvent).toBeCloseTo(bytes[c] / Number(n), 9);
    }
    // Types as DuckDB's DESCRIBE spells them, in diffskim's names.
    const types = Object.fromEntries(
      (await sql(`DESCRIBE SELECT * FROM read_parquet([${files}])`)).map((r) => [r.column_name, r.column_type]),
    );
    expect(types).toMatchObject({
      id: 'INTEGER',
      MET_pt: 'FLOAT',
      HLT_IsoMu24: 'BOOLEAN',
      Jet_pt: 'FLOAT[]',
      name: 'VARCHAR',
    });
    expect([byName.id.type, byName.MET_pt.type, byName.HLT_IsoMu24.type, byName.Jet_pt.type]).toEqual([
      'int32',
      'float32',
      'bool',
      'list<float32>',
    ]);
    // The struct's numeric field is a column of its own, its bytes in the struct's.
    expect(byName['Muon.pt']).toMatchObject({ type: 'float64', structField: 'Muon', bytes: null });
    const unread = Object.fromEntries(d.unread.map((u) => [u.name, u]));
    expect(unread.name.why).toMatch(/VARCHAR is not read/);
    expect(unread.name.bytes).toBe(bytes.name);
    expect(unread.Muon.why).toMatch(/STRUCT\(pt DOUBLE\) is not read/);
  });

  it('gives the branches of a ROOT file as jsroot reads them', async () => {
    const d = await describeInputs([NANO], { tree: 'Events' });
    type Branch = {
      fName: string;
      fWriteBasket: number;
      fBasketBytes: ArrayLike<number>;
      fBaskets?: { arr: unknown[] };
    };
    const file = await openFile(NANO);
    const tree = (await (file as { readObject(n: string): Promise<unknown> }).readObject('Events')) as {
      fEntries: number;
      fBranches: { arr: Branch[] };
    };
    expect(d.rows).toBe(tree.fEntries);
    expect(d.files).toEqual([expect.objectContaining({ path: NANO, rows: tree.fEntries })]);
    // Every branch of the tree is described once: read (a column) or not (with why).
    const described = [...d.columns.map((c) => c.name), ...d.unread.map((u) => u.name)].sort();
    expect(described).toEqual(tree.fBranches.arr.map((b) => b.fName).sort());
    expect(d.unread.every((u) => u.why.length > 0)).toBe(true);
    // A branch's bytes: its written baskets' sizes, plus the baskets kept inside the tree's own
    // key at that key's compression ratio (rounded up per basket), from jsroot's objects.
    type Key = { fName: string; fNbytes: number; fKeylen: number; fObjlen: number };
    const key = (file as unknown as { fKeys: Key[] }).fKeys.find((k) => k.fName === 'Events')!;
    const ratio = (key.fNbytes - key.fKeylen) / key.fObjlen;
    const byName = new Map(d.columns.map((c) => [c.name, c]));
    let checked = 0;
    for (const b of tree.fBranches.arr) {
      const c = byName.get(b.fName);
      if (!c) continue;
      const baskets = (b.fBaskets?.arr ?? []) as ({ fLast: number; fKeylen: number } | null)[];
      const written = Array.from(b.fBasketBytes)
        .slice(0, b.fWriteBasket)
        .reduce((s, x) => s + x, 0);
      const inTree = baskets.reduce((s, k) => s + (k ? Math.ceil((k.fLast - k.fKeylen) * ratio) : 0), 0);
      expect([b.fName, c.bytes]).toEqual([b.fName, written + inTree]);
      checked++;
    }
    expect(checked).toBe(d.columns.length);
    const total = d.columns.reduce((s, c) => s + c.bytes!, 0);
    expect(total).toBeLessThan(d.bytesOnDisk);
    expect(byName.get('Jet_pt')?.type).toBe('list<float32>');
    expect(byName.get('MET_pt')?.type).toBe('float32');
  });

  it('gives the same columns, rows and bytes for a file served over gRPC as for the file itself', async () => {
    const server = await startServer({ dataRoots: [dir], ...(await localServerOptions()) });
    try {
      const remote = await describeInputs([`grpc://127.0.0.1:${server.port}/f1.parquet`]);
      const local = await describeInputs([join(dir, 'f1.parquet')]);
      expect(remote.kind).toBe('gRPC');
      expect(remote.rows).toBe(local.rows);
      expect(remote.bytesOnDisk).toBe(local.bytesOnDisk);
      expect(remote.columns).toEqual(local.columns);
      expect(remote.unread.map((u) => u.name).sort()).toEqual(local.unread.map((u) => u.name).sort());
      expect(remote.files.map((f) => f.rows)).toEqual([1500]);
    } finally {
      await server.close(500);
    }
  });

  it('prints a table, or JSON with --json, from the command line', async () => {
    const f = join(dir, 'f2.parquet');
    const { stdout } = await run('node', ['bin/diffskim.mjs', 'describe', f]);
    expect(stdout).toMatch(/^Parquet: 1 file\(s\), 700 events/);
    expect(stdout).toMatch(/\nJet_pt +list<float32> +[\d.]+ k?B +[\d.]+ B\n/);
    expect(stdout).toMatch(/\n {2}name: type VARCHAR is not read/);
    expect(stdout).toContain(`${f}: 700 events`);
    const json = JSON.parse((await run('node', ['bin/diffskim.mjs', 'describe', '--json', f])).stdout) as Description;
    expect(json).toEqual(await describeInputs([f]));
  });

  it('names an input that does not exist', async () => {
    await expect(run('node', ['bin/diffskim.mjs', 'describe', join(dir, 'none.parquet')])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^diffskim: error: .*none\.parquet/),
    });
  });
});
