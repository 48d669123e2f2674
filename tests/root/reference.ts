import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { openFile } from 'jsroot/io';
import { treeProcess, TSelector } from 'jsroot/tree';
import type { EventBatch } from '../../src/batch/batch.js';

/**
 * The real ROOT files shipped beside the project (read-only): ../shared/data/root next to the
 * checkout (as CI lays it out), else the workplace's /work/shared.
 */
export const ROOT_DIR =
  [resolve('..', 'shared', 'data', 'root'), '/work/shared/data/root'].find((d) => existsSync(d)) ??
  resolve('..', 'shared', 'data', 'root');
export const HZZ = `${ROOT_DIR}/uproot-HZZ.root`;
export const ZMUMU = `${ROOT_DIR}/uproot-Zmumu.root`;
export const NANO = `${ROOT_DIR}/nanoAOD_2015_CMS_Open_Data_ttbar.root`;

/** Per-event values: a number for a scalar branch, an array for a jagged one. */
export type EventValues = (number | number[])[];

/**
 * Branch values read straight through jsroot's own TSelector / treeProcess API, one event at a
 * time, with nothing from diffskim in between: the reference the source is checked against.
 */
export async function referenceRead(
  path: string,
  tree: string,
  branches: string[],
): Promise<Record<string, EventValues>> {
  const file = await openFile(path);
  const t = await (file as { readObject(n: string): Promise<unknown> }).readObject(tree);
  const out: Record<string, EventValues> = Object.fromEntries(branches.map((b) => [b, []]));
  const selector = new TSelector();
  // Each branch by its object: jsroot's lookup by name misses 'a.b.b' beside a branch 'a.b'.
  type Branch = { fName: string; fBranches: { arr: Branch[] } };
  const byName = new Map<string, Branch>();
  const walk = (list: Branch[]): void => {
    for (const b of list) {
      byName.set(b.fName, b);
      walk(b.fBranches.arr);
    }
  };
  walk((t as Branch).fBranches.arr);
  for (const b of branches) selector.addBranch(byName.get(b) ?? b, b);
  selector.Process = function (this: TSelector) {
    for (const b of branches) {
      const v = this.tgtobj[b];
      out[b].push(typeof v === 'object' ? Array.from(v as ArrayLike<number>, Number) : Number(v));
    }
  };
  await treeProcess(t, selector);
  const fd = (file as { fd?: number }).fd;
  if (fd !== undefined) (await import('node:fs')).closeSync(fd);
  return out;
}

/** The same per-event view of a column spread over diffskim batches. */
export function batchValues(batches: EventBatch[], name: string): EventValues {
  const out: EventValues = [];
  for (const b of batches) {
    const c = b.columns[name];
    if (c.kind === 'flat') for (let i = 0; i < b.length; i++) out.push(Number(c.values[i]));
    else
      for (let i = 0; i < b.length; i++)
        out.push(Array.from(c.values.subarray(c.offsets[i], c.offsets[i + 1]) as ArrayLike<number | bigint>, Number));
  }
  return out;
}

/**
 * Order-sensitive checksum of per-event values (FNV-1a over the float64 bytes of every value
 * and every list length), so that two reads agree only if every value sits in the same event.
 */
export function checksum(values: EventValues): string {
  const f = new Float64Array(1);
  const bytes = new Uint8Array(f.buffer);
  let h = 0x811c9dc5;
  const mix = (x: number) => {
    f[0] = x;
    for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  };
  for (const v of values) {
    if (Array.isArray(v)) {
      mix(v.length);
      v.forEach(mix);
    } else mix(v);
  }
  return `${values.length}:${h.toString(16)}`;
}

/** Per-event values of each column of a Parquet file, read back with plain DuckDB SQL. */
export async function duckdbColumns(file: string, columns: string[]): Promise<Record<string, EventValues>> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    const selected = columns.map((c) => `"${c}"`).join(', ');
    const sql = `SELECT ${selected} FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`;
    const rows = (await con.runAndReadAll(sql)).getRowsJS();
    return Object.fromEntries(columns.map((c, j) => [c, rows.map((r) => eventValue(r[j]))]));
  } finally {
    con.closeSync();
    db.closeSync();
  }
}

/**
 * The same read with hyparquet, which, unlike DuckDB, tells apart columns whose names differ only
 * in case (ROOT's 'ab' and 'Ab': DuckDB reads the second as 'Ab_1' and "Ab" as 'ab').
 */
export async function hyparquetColumns(file: string, columns: string[]): Promise<Record<string, EventValues>> {
  const bytes = readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const rows = await parquetReadObjects({ file: buffer, columns });
  return Object.fromEntries(columns.map((c) => [c, rows.map((r) => eventValue(r[c]))]));
}

/** A value read back from Parquet as a number, or a list's values as numbers. */
function eventValue(v: unknown): number | number[] {
  return Array.isArray(v) ? v.map(Number) : Number(v);
}
