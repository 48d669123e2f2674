import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateSamples, PROCESSES } from '../../src/datasets/nanoSamples.js';
import { sql, tempDir } from '../parquet/helpers.js';

const options = { files: 2, eventsPerFile: 3000, seed: 7 };
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await generateSamples(join(dir, 'a'), options);
});
afterAll(() => cleanup?.());

const events = (sample: string) => `read_parquet('${join(dir, 'a', sample)}/*.parquet', filename = true)`;

describe('src/datasets/nanoSamples.ts', () => {
  it('writes every sample as files of the same basenames, with the counts asked for', async () => {
    for (const p of PROCESSES) {
      const rows = await sql(
        `SELECT parse_filename(filename) AS f, count(*) AS n FROM ${events(p.name)} GROUP BY f ORDER BY f`,
      );
      expect(rows.map((r) => [r.f, Number(r.n)])).toEqual([
        ['nano_1.parquet', options.eventsPerFile],
        ['nano_2.parquet', options.eventsPerFile],
      ]);
      // Event numbers run on across a sample's files.
      const [{ distinct }] = await sql(`SELECT count(DISTINCT event) AS distinct FROM ${events(p.name)}`);
      expect(Number(distinct)).toBe(options.files * options.eventsPerFile);
    }
  });

  it('gives NLO samples ~10 % negative genWeight and LO ones none', async () => {
    for (const p of PROCESSES) {
      const [{ share }] = await sql(`SELECT avg((genWeight < 0)::DOUBLE) AS share FROM ${events(p.name)}`);
      if (p.negativeWeights === 0) expect(Number(share)).toBe(0);
      else expect(Math.abs(Number(share) - p.negativeWeights)).toBeLessThan(0.02);
    }
  });

  it('writes genEventSumw (Runs, samples.yaml) equal to DuckDB sum of genWeight per sample and file', async () => {
    const yaml = parse(await readFile(join(dir, 'a', 'samples.yaml'), 'utf8'));
    expect(yaml.luminosity).toBeGreaterThan(0);
    expect(yaml.samples.map((s: { name: string }) => s.name)).toEqual(PROCESSES.map((p) => p.name));
    for (const s of yaml.samples) {
      expect(s.crossSection).toBe(PROCESSES.find((p) => p.name === s.name)!.crossSection);
      const [{ sumw, n }] = await sql(`SELECT sum(genWeight::DOUBLE) AS sumw, count(*) AS n FROM ${events(s.name)}`);
      expect(Math.abs(s.genEventSumw - Number(sumw))).toBeLessThan(1e-9 * Math.abs(Number(sumw)));
      expect(s.genEventCount).toBe(Number(n));
      const perFile = await sql(`SELECT r.fileIndex AS k, r.genEventSumw AS runs, e.sumw, r.genEventCount AS count, e.n
        FROM read_parquet('${join(dir, 'a', s.runs)}') r JOIN (SELECT parse_filename(filename) AS f,
          sum(genWeight::DOUBLE) AS sumw, count(*) AS n FROM ${events(s.name)} GROUP BY f) e
        ON e.f = 'nano_' || r.fileIndex || '.parquet'`);
      expect(perFile).toHaveLength(options.files);
      for (const r of perFile) {
        expect(Math.abs(Number(r.runs) - Number(r.sumw))).toBeLessThan(1e-9 * Math.abs(Number(r.sumw)));
        expect(Number(r.count)).toBe(Number(r.n));
      }
    }
  });

  it('is physically sensible: the signal has more jets, higher HT and two or more b-tagged jets', async () => {
    const stats = async (name: string) => {
      const [r] = await sql(`SELECT avg(nJet) AS jets, avg(list_sum(Jet_pt)) AS ht,
          avg(len(list_filter(Jet_btagDeepFlavB, b -> b > 0.5))) AS b, avg((nJet = len(Jet_pt))::INT) AS counted,
          avg(MET_pt) AS met, min(list_min(Jet_pt)) AS minPt,
          max(list_max(list_transform(Jet_eta, e -> abs(e)))) AS maxEta
        FROM ${events(name)}`);
      return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
    };
    const signal = await stats('ttH');
    expect(signal.counted).toBe(1);
    expect(signal.b).toBeGreaterThan(2);
    expect(signal.minPt).toBeGreaterThanOrEqual(20);
    expect(signal.maxEta).toBeLessThan(2.4);
    for (const p of PROCESSES.filter((x) => x.role === 'background')) {
      const bg = await stats(p.name);
      expect(signal.jets).toBeGreaterThan(bg.jets);
      expect(signal.b).toBeGreaterThan(bg.b);
      if (p.name !== 'QCD_HT500to700') expect(signal.ht).toBeGreaterThan(bg.ht);
    }
    // Triggers fire where their objects are: every HLT_IsoMu24 event has an isolated muon above 24 GeV.
    const [{ bad }] = await sql(`SELECT count(*) AS bad FROM ${events('ttbar')}
      WHERE HLT_IsoMu24
        AND NOT list_bool_or(list_transform(list_zip(Muon_pt, Muon_pfRelIso04_all), m -> m[1] > 24 AND m[2] < 0.15))`);
    expect(Number(bad)).toBe(0);
  });

  it('is deterministic for a seed', async () => {
    await generateSamples(join(dir, 'b'), options);
    for (const p of PROCESSES) {
      const [{ a }] = await sql(
        `SELECT sum(hash(COLUMNS(*))) AS a FROM read_parquet('${join(dir, 'a', p.name)}/*.parquet')`,
      );
      const [{ b }] = await sql(
        `SELECT sum(hash(COLUMNS(*))) AS b FROM read_parquet('${join(dir, 'b', p.name)}/*.parquet')`,
      );
      expect(a).toEqual(b);
    }
    expect(await readFile(join(dir, 'b', 'samples.yaml'), 'utf8')).toBe(
      await readFile(join(dir, 'a', 'samples.yaml'), 'utf8'),
    );
  });
});
