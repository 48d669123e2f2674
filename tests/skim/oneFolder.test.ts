import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, tempDir } from '../parquet/helpers.js';
import { cli } from '../shard/helpers.js';

// Two skims into one output folder: a second run of other settings is refused, at once or later;
// the folder's report always matches its files; a killed writer's claim blocks no one.
let dir: string;
let cleanup: () => Promise<void>;
const cutsOf = (value: number) => ({ cuts: [{ column: 'met', op: '>', value }], score: null });
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await mkdir(join(dir, 'in'));
  for (const k of [0, 1, 2]) {
    const select = `SELECT i::INTEGER AS id, ((i * 31 + ${k}) % 100)::DOUBLE AS met FROM range(20000) t(i)`;
    await sql(`COPY (${select}) TO '${join(dir, 'in', `f${k}.parquet`)}' (FORMAT parquet)`);
  }
  for (const v of [30, 70]) await writeFile(join(dir, `cuts${v}.json`), JSON.stringify(cutsOf(v)));
});
afterAll(() => cleanup());

const skimArgs = (cut: number, out: string) => {
  return ['skim', '--cuts', join(dir, `cuts${cut}.json`), '--input', join(dir, 'in'), '--output', out];
};

/** The report against the disk: every skim file listed, with the rows DuckDB finds in it and passes in its input. */
async function expectReportMatchesDisk(out: string, cut: number): Promise<void> {
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
  const onDisk = (await readdir(out)).filter((n) => n.endsWith('.skim.parquet')).map((n) => join(out, n));
  expect(report.skimFiles.sort()).toEqual(onDisk.sort());
  for (const f of report.files) {
    const counts = `count(*) AS rows, count(*) FILTER (WHERE met > ${cut}) AS kept`;
    const [r] = await sql(`SELECT ${counts} FROM read_parquet('${f.input}')`);
    const [s] = await sql(`SELECT count(*) AS rows FROM read_parquet('${f.output}')`);
    expect([f.eventsIn, f.eventsKept, Number(s.rows)]).toEqual([Number(r.rows), Number(r.kept), Number(r.kept)]);
  }
  expect(report.eventsIn).toBe(report.eventsKept + report.eventsCut);
}

describe('two skims into one output folder', () => {
  it('refuses a later skim of other cuts, naming the folder and the fix; the same skim again runs', async () => {
    const out = join(dir, 'later');
    expect((await cli(skimArgs(30, out))).code).toBe(0);
    const other = await cli(skimArgs(70, out));
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`${join(out, 'manifest.json')} was written with other cuts/keep/codec settings`);
    expect(other.stderr).toMatch(/use a fresh output directory, or delete the old skim first/);
    await expectReportMatchesDisk(out, 30);
    const again = await cli(skimArgs(30, out));
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/3 file\(s\) already complete/);
    await expectReportMatchesDisk(out, 30);
  });

  it('refuses one of two skims started at once; the report of the other matches the disk', async () => {
    const out = join(dir, 'at-once');
    const run = (cut: number) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const stdio = ['ignore', 'ignore', 'pipe'] as const;
        const child = spawn('node', ['bin/diffskim.mjs', '-q', ...skimArgs(cut, out)], { stdio: [...stdio] });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    const [a, b] = await Promise.all([run(30), run(70)]);
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    const [won, lost] = a.code === 0 ? [30, b] : [70, a];
    expect(lost.stderr).toMatch(/is being written by process \d+|was written with other cuts\/keep\/codec settings/);
    await expectReportMatchesDisk(out, won);
  });

  it('takes over the claim of a writer that is gone', async () => {
    const out = join(dir, 'dead-claim');
    await mkdir(out);
    // A pid far above pid_max cannot be a running process.
    await writeFile(join(out, 'manifest.json.claim'), JSON.stringify({ pid: 999999999, host: hostname(), id: 'x' }));
    await writeFile(join(out, 'f1.skim.parquet.claim'), JSON.stringify({ pid: 999999999, host: hostname(), id: 'y' }));
    const r = await cli(skimArgs(30, out));
    expect(r.stderr).toBe('');
    await expectReportMatchesDisk(out, 30);
    expect((await readdir(out)).filter((n) => n.includes('.claim'))).toEqual([]);
  });
});

describe('skim --pipeline into the folder of an earlier one', () => {
  it('refuses it while the folder holds skim files of inputs gone since, before writing anything', async () => {
    const samples = [
      { name: 'sig', role: 'signal', xsec: 1, source: { kind: 'parquet', paths: [join(dir, 'in')] } },
      { name: 'bkg', role: 'background', xsec: 1, source: { kind: 'parquet', paths: [join(dir, 'in', 'f0.parquet')] } },
    ];
    const pipeline = { name: 'two', luminosity: 1, samples, features: ['met'], cuts: [{ column: 'met', op: '>' }] };
    await writeFile(join(dir, 'two.yaml'), JSON.stringify(pipeline)); // JSON is YAML
    const out = join(dir, 'samples');
    const args = ['skim', '--pipeline', join(dir, 'two.yaml'), '--cuts', join(dir, 'cuts30.json'), '--output', out];
    expect((await cli(args)).code).toBe(0);
    const listing = async () => (await readdir(out, { recursive: true })).sort();
    const before = await listing();
    expect(before.filter((n) => n.endsWith('.skim.parquet'))).toEqual(
      ['bkg/f0', 'sig/f0', 'sig/f1', 'sig/f2'].map((f) => `${f}.skim.parquet`),
    );
    await rename(join(dir, 'in', 'f2.parquet'), join(dir, 'f2.parquet'));
    try {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `${out} holds skim files that this skim does not write (${join(out, 'sig', 'f2.skim.parquet')})`,
      );
      expect(await listing()).toEqual(before); // the report too
    } finally {
      await rename(join(dir, 'f2.parquet'), join(dir, 'in', 'f2.parquet'));
    }
  });

  it('refuses it while another skim writes the folder (its claim held by a live process)', async () => {
    const out = join(dir, 'samples-busy');
    await mkdir(out);
    // This test's own process stands for a skim still running.
    await writeFile(join(out, 'report.json.claim'), JSON.stringify({ pid: process.pid, host: hostname(), id: 'z' }));
    const r = await cli([
      'skim',
      '--pipeline',
      join(dir, 'two.yaml'),
      '--cuts',
      join(dir, 'cuts30.json'),
      '--output',
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(out, 'report.json')} is being written by process ${process.pid}`);
    expect(await readdir(out)).toEqual(['report.json.claim']);
  });
});
