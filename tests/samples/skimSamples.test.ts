import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateSamples } from '../../src/datasets/nanoSamples.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { startServer } from '../../src/grpc/server.js';
import type { SamplesReport } from '../../src/report/samples.js';
import type { SampleConfig } from '../../src/samples/config.js';
import { cutsToSql } from '../../src/selection/cutsFile.js';
import { sql, tempDir } from '../parquet/helpers.js';
import { cli } from '../shard/helpers.js';
import { CUTS, duckdbYields, exampleSamples, GEN, LUMI_PB } from './helpers.js';

// `diffskim skim --pipeline` over the generated samples (every one has nano_1.parquet and nano_2.parquet),
// ttbar served by `diffskim serve` and the others read from their folders.
let dir: string;
let cleanup: () => Promise<void>;
let server: Awaited<ReturnType<typeof startServer>>;
let report: { eventsIn: number; eventsKept: number; files: { input: string; output: string }[] } & {
  samples: SamplesReport;
};
const data = () => join(dir, 'data');
const out = () => join(dir, 'out');
const relative = (a: number, b: number) => Math.abs(a / b - 1);
/** Where each sample's files are skimmed to, below the output folder: a gRPC sample by its path on the server. */
const skimDir = (s: SampleConfig) => (s.name === 'ttbar' ? join('ttbar', 'ttbar') : s.name);

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await generateSamples(data(), GEN);
  server = await startServer({ dataRoots: [data()], ...(await localServerOptions()) });
  const samples = exampleSamples(data()).map((s) =>
    s.name === 'ttbar' ? { ...s, source: { kind: 'grpc', address: `127.0.0.1:${server.port}`, paths: ['ttbar'] } } : s,
  );
  await writeFile(
    join(dir, 'p.yaml'),
    stringify({ name: 'skim-samples', luminosity: LUMI_PB, samples, features: ['MET_pt'] }),
  );
  await writeFile(join(dir, 'cuts.json'), JSON.stringify({ cuts: CUTS, score: null }));
  const args = ['skim', '--pipeline', join(dir, 'p.yaml'), '--cuts', join(dir, 'cuts.json'), '--output', out()];
  const r = await cli(args);
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^ttH +\d+ in, \d+ kept; yield/m);
  report = JSON.parse(await readFile(join(out(), 'report.json'), 'utf8'));
}, 120_000);

afterAll(async () => {
  await server?.close();
  await cleanup?.();
});

describe('diffskim skim --pipeline', () => {
  it('writes each sample to its own folder, same-named files apart, each exactly what DuckDB keeps', async () => {
    const samples = exampleSamples(data());
    const written = (await readdir(out(), { recursive: true })).filter((f) => f.endsWith('.skim.parquet'));
    const expected = samples.flatMap((s) => ['nano_1', 'nano_2'].map((f) => join(skimDir(s), `${f}.skim.parquet`)));
    expect(written.sort()).toEqual(expected.sort());
    const where = cutsToSql(CUTS);
    for (const s of samples)
      for (const f of ['nano_1', 'nano_2']) {
        const input = `read_parquet('${join((s.source as { paths: string[] }).paths[0], `${f}.parquet`)}')`;
        const skim = `read_parquet('${join(out(), skimDir(s), `${f}.skim.parquet`)}')`;
        const [r] = await sql(
          `SELECT (SELECT count(*) FROM ${input} WHERE ${where}) AS kept, (SELECT count(*) FROM ${skim}) AS written,
             (SELECT count(*) FROM (SELECT * FROM ${input} WHERE ${where} EXCEPT ALL SELECT * FROM ${skim})) AS missing`,
        );
        expect(Number(r.written)).toBe(Number(r.kept));
        expect(Number(r.missing)).toBe(0);
      }
  });

  it('reports events and normalised yields per sample as DuckDB computes them; counts add up', async () => {
    const rows = report.samples.samples;
    for (const [i, s] of exampleSamples(data()).entries()) {
      const ref = await duckdbYields(s, CUTS);
      const r = rows[i];
      expect(r.name).toBe(s.name);
      expect([r.eventsIn, r.eventsKept, r.eventsCut]).toEqual([ref.n, ref.nk, ref.n - ref.nk]);
      expect(relative(r.yieldIn, ref.y)).toBeLessThan(1e-9);
      expect(relative(r.yieldKept, ref.yk)).toBeLessThan(1e-9);
      expect(r.skimFiles).toHaveLength(2);
    }
    expect(report.samples.total.eventsIn).toBe(report.eventsIn);
    expect(report.samples.total.eventsKept).toBe(report.eventsKept);
    expect(report.files).toHaveLength(8);
  });
});
