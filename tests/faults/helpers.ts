import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateHep } from '../../scripts/gen-hep.js';

export const BIN = join(import.meta.dirname, '../../bin/diffskim.mjs');
export const CUTS = {
  cuts: [
    { column: 'met', op: '>', value: 30 },
    { column: 'lep1_pt', op: '>', value: 20 },
  ],
  score: null,
};

/** A fresh temp directory and its cleanup. */
export async function tempDir(prefix = 'diffskim-faults-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** n HEP files of different sizes in dir/in (gen-hep, DuckDB SQL) and dir/cuts.json. */
export async function makeInputs(
  dir: string,
  n: number,
  events: (i: number) => number,
  rowGroupRows = 10_000,
): Promise<{ inputs: string[]; cutsPath: string }> {
  await mkdir(join(dir, 'in'), { recursive: true });
  const inputs: string[] = [];
  for (let i = 0; i < n; i++) {
    const path = join(dir, 'in', `f${i}.parquet`);
    await generateHep(path, events(i), { rowGroupRows });
    inputs.push(path);
  }
  const cutsPath = join(dir, 'cuts.json');
  await writeFile(cutsPath, JSON.stringify(CUTS));
  return { inputs, cutsPath };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to the end; never rejects on a non-zero exit. */
export function cli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile('node', [BIN, '-q', ...args], { maxBuffer: 1 << 24 }, (e, stdout, stderr) => {
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
