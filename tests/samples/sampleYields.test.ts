import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutRanges } from '../../src/eval/cutHistograms.js';
import { countSamples, type SampleCounts } from '../../src/eval/sampleYields.js';
import { plotStackedCuts, stackedRows } from '../../src/plots/stackedPlots.js';
import { type DataConfig, resolveSamples } from '../../src/samples/resolve.js';
import type { ResolvedSample } from '../../src/samples/sample.js';
import { sql, tempDir } from '../parquet/helpers.js';
import { CUTS, duckdbYields, writeExample } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let data: DataConfig;
let samples: ResolvedSample[];
let counts: SampleCounts;
const relative = (a: number, b: number) => Math.abs(a / b - 1);

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  data = await writeExample(join(dir, 'data'));
  samples = await resolveSamples(data, dir);
  counts = await countSamples({ samples, cuts: CUTS, ranges: cutRanges(CUTS), sigmaB: 0.1 });
});

afterAll(() => cleanup?.());

describe('countSamples', () => {
  it("gives each sample's events and normalised yields before and after the cuts as DuckDB computes them", async () => {
    for (const [i, s] of data.samples!.entries()) {
      const ref = await duckdbYields(s, CUTS);
      const got = counts.samples[i];
      expect(got).toMatchObject({ name: s.name, process: s.process ?? s.name, role: s.role });
      expect([got.eventsIn, got.eventsKept]).toEqual([ref.n, ref.nk]);
      expect(got.eventsIn).toBe(got.eventsKept + got.eventsCut);
      expect(relative(got.yieldIn, ref.y)).toBeLessThan(1e-9);
      expect(relative(got.yieldKept, ref.yk)).toBeLessThan(1e-9);
      expect(relative(got.sumW2In, ref.y2)).toBeLessThan(1e-9);
      expect(relative(got.sumW2Kept, ref.y2k)).toBeLessThan(1e-9);
      expect(got.efficiency).toBe(got.yieldKept / got.yieldIn);
    }
    // The cuts keep some of every sample and not all, and the NLO samples have negative weights.
    for (const s of counts.samples) expect(s.eventsKept).toBeGreaterThan(0);
    for (const s of counts.samples) expect(s.eventsCut).toBeGreaterThan(0);
  });

  it('gives S, B, S/sqrt(B) and Z_A of the yields after the cuts', () => {
    const { significance: z } = counts;
    const s = counts.samples[0].yieldKept;
    const b = counts.samples.slice(1).reduce((a, x) => a + x.yieldKept, 0);
    expect(z.signal).toBe(s);
    expect(relative(z.background, b)).toBeLessThan(1e-12);
    expect(z.sOverSqrtB).toBeCloseTo(s / Math.sqrt(b), 9);
    // Cowan's Z_A with sigma_B = 0.1 B against the profile likelihood ratio maximised numerically: Asimov data
    // n = s + b and a control region measuring b with tau = 1 / (sigma_B^2 b), q0 = -2 ln L(0, b^^) / L(s, b).
    const tau = 1 / (0.01 * b);
    const logL = (mu: number, bb: number) =>
      (s + b) * Math.log(mu + bb) - (mu + bb) + tau * b * Math.log(tau * bb) - tau * bb;
    let best = -Infinity;
    for (let bb = b * 0.5; bb < b * 2; bb += b * 1e-6) best = Math.max(best, logL(0, bb));
    expect(z.asimov / Math.sqrt(2 * (logL(s, b) - best)) - 1).toBeLessThan(1e-4);
    expect(z.sigmaB).toBe(0.1);
  });

  it('histograms each cut variable per process, weighted, as a direct sum over the events', async () => {
    for (const d of counts.distributions) {
      expect(d.processes.map((p) => [p.process, p.role])).toEqual(counts.samples.map((s) => [s.process, s.role]));
      for (const [i, p] of d.processes.entries()) {
        const s = samples[i];
        const files = s.opened.files.map((f) => `'${f}'`).join(', ');
        const v = d.column.replace(/^count\((\w+)\)$/, 'len($1)');
        const rows = await sql(
          `SELECT ${v}::DOUBLE AS v, genWeight::DOUBLE AS gw, MET_phi::DOUBLE AS phi FROM read_parquet([${files}])`,
        );
        const norm = s.normalisation!.factor;
        const yields = new Array(d.edges.length - 1).fill(0);
        const sumW2 = new Array(d.edges.length - 1).fill(0);
        let outside = 0;
        for (const { v, gw, phi } of rows as { v: number; gw: number; phi: number }[]) {
          const w = norm * gw * (s.factors.length ? Math.abs(phi) : 1);
          const k = d.edges.findIndex((e, j) => j < d.edges.length - 1 && v >= e && v < d.edges[j + 1]);
          if (k < 0) outside += w;
          else {
            yields[k] += w;
            sumW2[k] += w * w;
          }
        }
        p.yields.forEach((y, k) => expect(Math.abs(y - yields[k])).toBeLessThan(1e-9 * Math.abs(yields[k]) + 1e-9));
        p.sumW2.forEach((y, k) => expect(Math.abs(y - sumW2[k])).toBeLessThan(1e-9 * sumW2[k] + 1e-9));
        expect(p.underflow + p.overflow + p.missing).toBeCloseTo(outside, 6);
      }
    }
  });
});

describe('stacked plots', () => {
  it('stack the backgrounds bin by bin, with the band sqrt(sum w^2) around their total and signal as a line', () => {
    const d = counts.distributions[0];
    const rows = stackedRows(d);
    const [ttH, ...backgrounds] = d.processes;
    for (let k = 0; k < d.edges.length - 1; k++) {
      const inBin = rows.boxes.filter((b) => b.x === d.edges[k]);
      expect(inBin.map((b) => b.process)).toEqual(['ttbar', 'WJets', 'QCD_HT500to700']);
      expect(inBin[0].y).toBe(0);
      for (let j = 1; j < inBin.length; j++) expect(inBin[j].y).toBe(inBin[j - 1].y2);
      const total = backgrounds.reduce((a, p) => a + p.yields[k], 0);
      expect(inBin[inBin.length - 1].y2).toBeCloseTo(total, 6);
      const error = Math.sqrt(backgrounds.reduce((a, p) => a + p.sumW2[k], 0));
      expect(rows.band[k].high - rows.band[k].low).toBeCloseTo(2 * error, 6);
      expect(rows.lines[k]).toEqual({ process: 'ttH', x: d.edges[k], y: ttH.yields[k] });
    }
  });

  it('are written as PNG and SVG, linear and log-y', async () => {
    for (const logY of [false, true]) {
      const out = join(dir, logY ? 'log' : 'linear');
      await mkdir(out);
      const pngs = await plotStackedCuts(counts.distributions, out, { logY });
      expect(pngs.map((p) => p.slice(out.length + 1))).toEqual(['stack-1-MET_pt.png', 'stack-2-count_Jet_pt.png']);
      for (const p of pngs) {
        expect(statSync(p).size).toBeGreaterThan(5000);
        expect(existsSync(p.replace(/png$/, 'svg'))).toBe(true);
      }
    }
  });
});
