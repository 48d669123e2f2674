import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateHep } from '../../scripts/gen-hep.js';
import { sql } from '../parquet/helpers.js';

export const BIN = join(import.meta.dirname, '../../bin/diffskim.mjs');
export const exec = promisify(execFile);

export const CUTS = {
  cuts: [
    { column: 'met', op: '>', value: 30 },
    { column: 'lep1_pt', op: '>', value: 20 },
  ],
  score: null,
} as const;

/** n small HEP files of different sizes (f0 smallest) in dir/in, and dir/cuts.json. */
export async function makeRun(
  dir: string,
  n: number,
  events = (i: number) => 1500 + 500 * i,
): Promise<{ inputs: string[]; cutsPath: string }> {
  await mkdir(join(dir, 'in'), { recursive: true });
  const inputs: string[] = [];
  for (let i = 0; i < n; i++) {
    const path = join(dir, 'in', `f${i}.parquet`);
    await generateHep(path, events(i), { rowGroupRows: 1000 });
    inputs.push(path);
  }
  const cutsPath = join(dir, 'cuts.json');
  await writeFile(cutsPath, JSON.stringify(CUTS));
  return { inputs, cutsPath };
}

/** Runs the CLI; resolves with stdout/stderr and the exit code (never rejects on a non-zero exit). */
export async function cli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec('node', [BIN, '-q', ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env } });
    return { code: 0, ...r };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/**
 * Rows of every *.skim.parquet in dir a that are not in dir b, plus the other way round, matched on
 * (file name, row number in the file, every column): zero means the two skims are equal row for row.
 * Also returns the row count of a.
 */
export async function skimDifference(a: string, b: string): Promise<{ rowsA: number; differ: number }> {
  const rows = (d: string) =>
    `(SELECT * EXCLUDE (filename), parse_filename(filename) AS file FROM read_parquet('${d}/*.skim.parquet', filename = true, file_row_number = true))`;
  const [r] = await sql(`SELECT
      (SELECT count(*) FROM ${rows(a)}) AS rows_a,
      (SELECT count(*) FROM (SELECT * FROM ${rows(a)} EXCEPT ALL SELECT * FROM ${rows(b)})) +
      (SELECT count(*) FROM (SELECT * FROM ${rows(b)} EXCEPT ALL SELECT * FROM ${rows(a)})) AS differ`);
  return { rowsA: Number(r.rows_a), differ: Number(r.differ) };
}
