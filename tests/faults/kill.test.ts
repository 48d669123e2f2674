import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skimWithResume } from '../../src/skim/resume.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { expandInputs } from '../../src/sources/expandInputs.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { sql } from '../parquet/helpers.js';
import { skimDifference } from '../shard/helpers.js';
import { BIN, CUTS, cli, makeInputs, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let inputs: string[];
let cutsPath: string;
let reference: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  ({ inputs, cutsPath } = await makeInputs(dir, 5, (i) => 60_000 + 15_000 * i));
  reference = join(dir, 'reference');
  await runSkim({ inputs, cuts: structuredClone(CUTS) as never, outDir: reference });
}, 60_000);
afterAll(() => cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `diffskim skim` and kills it with SIGKILL as soon as `ready(names in out)` holds (or
 * after maxMs). Returns the directory listing at the moment of the kill.
 */
async function skimAndKill(out: string, ready: (names: string[]) => boolean, maxMs: number): Promise<string[]> {
  const child = spawn('node', [BIN, '-q', 'skim', '--cuts', cutsPath, '--input', join(dir, 'in'), '--output', out], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const t0 = Date.now();
  let names: string[] = [];
  while (Date.now() - t0 < maxMs && child.exitCode === null) {
    names = await readdir(out).catch(() => []);
    if (ready(names)) break;
    await sleep(2);
  }
  child.kill('SIGKILL');
  await exited;
  expect(child.signalCode, 'the skim finished before it could be killed; make the inputs bigger').toBe('SIGKILL');
  return names;
}

/** Every *.skim.parquet in out is complete: DuckDB reads it whole, and it equals the reference file. */
async function completeOutputs(out: string): Promise<string[]> {
  const skims = (await readdir(out)).filter((n) => n.endsWith('.skim.parquet'));
  for (const name of skims) {
    const [a] = await sql(`SELECT count(*) AS n FROM read_parquet('${join(out, name)}')`);
    const [b] = await sql(`SELECT count(*) AS n FROM read_parquet('${join(reference, name)}')`);
    expect(Number(a.n), name).toBe(Number(b.n));
  }
  return skims;
}

describe('SIGTERM during a skim (a Kubernetes pod being deleted)', () => {
  it('stops at once with exit code 143, removes the file being written, keeps finished ones, and the same command resumes', async () => {
    const out = join(dir, 'sigterm');
    let stderr = '';
    const child = spawn('node', [BIN, '-q', 'skim', '--cuts', cutsPath, '--input', join(dir, 'in'), '--output', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const t0 = Date.now();
    while (
      Date.now() - t0 < 20_000 &&
      child.exitCode === null &&
      !(await readdir(out).catch(() => [])).some((n) => n.includes('.tmp-'))
    )
      await sleep(2);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toMatch(/stopped by SIGTERM: the file being written was removed/);
    expect((await readdir(out)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    await completeOutputs(out);
    const again = spawn('node', [BIN, '-q', 'skim', '--cuts', cutsPath, '--input', join(dir, 'in'), '--output', out], {
      stdio: 'ignore',
    });
    expect(await new Promise((r) => again.on('exit', r))).toBe(0);
    expect(await completeOutputs(out)).toHaveLength(inputs.length);
  });
});

describe('kill -9 during a skim, then the same command again', () => {
  it('leaves only complete files, and the re-run skips finished inputs and equals an uninterrupted run', async () => {
    const out = join(dir, 'killed');
    // Kill while the second input is being written (its temp file exists), the first one done.
    const atKill = await skimAndKill(out, (names) => names.some((n) => n.startsWith('f1.skim.parquet.tmp-')), 30_000);
    const done = await completeOutputs(out);
    // Readers never take the temp file for an output: a directory input skips it, a named one is refused.
    expect((await expandInputs([out])).map((f) => f.path)).toEqual(done.map((n) => join(out, n)).sort());
    const temp = join(
      out,
      atKill.find((n) => n.startsWith('f1.skim.parquet.tmp-'))!,
    );
    await expect(parquetSource([temp]).files()).rejects.toThrow(
      `${temp}: a temporary file of an unfinished or killed write, not an output`,
    );
    expect(done.length).toBeLessThan(inputs.length);
    expect(await readdir(out)).not.toContain('report.json');
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8').catch(() => '{"entries": []}'));
    // The manifest lists only files that are complete on disk.
    for (const e of manifest.entries) expect(done).toContain(e.output);

    const again = await cli(['skim', '--cuts', cutsPath, '--input', join(dir, 'in'), '--output', out]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    // Killed mid-write: f0 was complete and recorded, so the re-run skips it.
    expect(atKill.filter((n) => n.startsWith('f1.skim.parquet.tmp-'))).toHaveLength(1);
    expect(manifest.entries.map((e: { output: string }) => e.output)).toEqual(['f0.skim.parquet']);
    expect(again.stdout).toMatch(
      /resumed an interrupted run: 1 file\(s\) already complete, 1 stale temp file\(s\) removed/,
    );

    // Nothing stale is left: no temp files, no claims of the killed run; one skim file per input,
    // report.json and the manifest (which records the run the folder holds).
    const names = (await readdir(out)).sort();
    expect(names).toEqual([...inputs.map((_, i) => `f${i}.skim.parquet`), 'manifest.json', 'report.json'].sort());
    expect(await skimDifference(out, reference)).toEqual({ rowsA: expect.any(Number), differ: 0 });

    // The report of the resumed run accounts for every event and byte on disk.
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    const [rows] = await sql(`SELECT count(*) AS n FROM read_parquet('${join(dir, 'in')}/*.parquet')`);
    const [kept] = await sql(`SELECT count(*) AS n FROM read_parquet('${out}/*.skim.parquet')`);
    expect(report.eventsIn).toBe(Number(rows.n));
    expect(report.eventsKept).toBe(Number(kept.n));
    expect(report.eventsIn).toBe(report.eventsKept + report.eventsCut);
    let bytesOut = 0;
    for (const f of report.skimFiles) bytesOut += (await stat(f)).size;
    let bytesIn = 0;
    for (const f of inputs) bytesIn += (await stat(f)).size;
    expect([report.bytesIn, report.bytesOut]).toEqual([bytesIn, bytesOut]);
  }, 60_000);

  it('a stale temp file of a dead process is removed; one of a live process is left alone', async () => {
    const out = join(dir, 'stale');
    await mkdir(out);
    // A pid far above pid_max cannot be a running process; our own pid is alive.
    await writeFile(join(out, 'report.json.tmp-999999999'), 'partial');
    await writeFile(join(out, `report.json.tmp-${process.pid}`), 'partial');
    const r = await skimWithResume({ inputs: [inputs[0]], cuts: structuredClone(CUTS) as never, outDir: out });
    expect(r.tempFilesRemoved).toEqual([join(out, 'report.json.tmp-999999999')]);
    expect((await readdir(out)).sort()).toEqual(['f0.skim.parquet', 'manifest.json', `report.json.tmp-${process.pid}`]);
    // The manifest stays (it records the run the folder holds): a re-run skips f0.
    expect(
      (await skimWithResume({ inputs: [inputs[0]], cuts: structuredClone(CUTS) as never, outDir: out })).filesSkipped,
    ).toBe(1);
  });
});
