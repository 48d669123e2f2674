import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBatch } from '../../src/batch/batch.js';
import { cutRanges } from '../../src/eval/cutHistograms.js';
import { countSamples, type SampleCounts, type SampleToCount } from '../../src/eval/sampleYields.js';
import { plotStackedCuts, stackedRows } from '../../src/plots/stackedPlots.js';
import { cutsToSql, type HardCut } from '../../src/selection/cutsFile.js';
import { evaluateQuantity, parseQuantity } from '../../src/selection/quantity.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { sql, tempDir, toyEvents, writeParquet } from '../eval/helpers.js';

const CUTS: HardCut[] = [
  { column: 'x', op: '>', value: 0.5 },
  { column: 'y', op: 'between', low: -1, high: 4 },
];
/** Per-sample normalisation (as sigma x L / sum w_gen would be) and process; 'weight - 1' has negative values. */
const SAMPLES = [
  { name: 'sig', process: 'ttH', role: 'signal', norm: 0.02, seed: 1 },
  { name: 'tt1', process: 'ttbar', role: 'background', norm: 3.5, seed: 2 },
  { name: 'tt2', process: 'ttbar', role: 'background', norm: 1.25, seed: 3 },
  { name: 'wj', process: 'WJets', role: 'background', norm: 7, seed: 4 },
] as const;
/** Event weight: norm x (weight - 0.6) x (1 + |y|/10), the last an extra per-event factor. */
const WEIGHT_SQL = (norm: number) => `${norm}::DOUBLE * (weight::DOUBLE - 0.6::DOUBLE) * (1 + abs(y::DOUBLE) / 10)`;

let dir: string;
let cleanup: () => Promise<void>;
let counts: SampleCounts;

function weights(norm: number) {
  return (b: EventBatch): Float64Array => {
    const w = evaluateQuantity(b, parseQuantity('weight'));
    const y = evaluateQuantity(b, parseQuantity('y'));
    return Float64Array.from(w, (v, i) => norm * (v - 0.6) * (1 + Math.abs(y[i]) / 10));
  };
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  const samples: SampleToCount[] = [];
  for (const s of SAMPLES) {
    const file = join(dir, `${s.name}.parquet`);
    await writeParquet(file, toyEvents(3000 + 500 * s.seed, s.seed));
    samples.push({ ...s, source: parquetSource([file]), weightColumns: ['weight', 'y'], weights: weights(s.norm) });
  }
  counts = await countSamples({ samples, cuts: CUTS, ranges: cutRanges(CUTS), sigmaB: 0.1 });
});

afterAll(() => cleanup?.());

describe('countSamples', () => {
  it("gives each sample's events and weighted yields before and after the cuts as DuckDB computes them", async () => {
    for (const [i, s] of SAMPLES.entries()) {
      const w = WEIGHT_SQL(s.norm);
      const [ref] = await sql(
        `SELECT count(*)::DOUBLE AS n, sum(${w}) AS y, sum((${w}) ^ 2) AS y2,
           count(*) FILTER (WHERE ${cutsToSql(CUTS)})::DOUBLE AS nk,
           sum(${w}) FILTER (WHERE ${cutsToSql(CUTS)}) AS yk, sum((${w}) ^ 2) FILTER (WHERE ${cutsToSql(CUTS)}) AS y2k
         FROM read_parquet('${join(dir, `${s.name}.parquet`)}')`,
      );
      const got = counts.samples[i];
      expect(got).toMatchObject({ name: s.name, process: s.process, role: s.role });
      expect(got.eventsIn).toBe(ref.n);
      expect(got.eventsKept).toBe(ref.nk);
      expect(got.eventsIn).toBe(got.eventsKept + got.eventsCut);
      expect(got.yieldIn).toBeCloseTo(ref.y as number, 9);
      expect(Math.abs(got.yieldIn / (ref.y as number) - 1)).toBeLessThan(1e-9);
      expect(Math.abs(got.yieldKept / (ref.yk as number) - 1)).toBeLessThan(1e-9);
      expect(Math.abs(got.sumW2In / (ref.y2 as number) - 1)).toBeLessThan(1e-9);
      expect(Math.abs(got.sumW2Kept / (ref.y2k as number) - 1)).toBeLessThan(1e-9);
      expect(got.efficiency).toBeCloseTo(got.yieldKept / got.yieldIn, 12);
    }
  });

  it('gives S, B, S/sqrt(B) and Z_A of the yields after the cuts', () => {
    const { significance: z, samples } = counts;
    const s = samples[0].yieldKept;
    const b = samples.slice(1).reduce((a, x) => a + x.yieldKept, 0);
    expect(z.signal).toBeCloseTo(s, 9);
    expect(z.background).toBeCloseTo(b, 9);
    expect(z.sOverSqrtB).toBeCloseTo(s / Math.sqrt(b), 9);
    // Cowan's Z_A with sigma_B = 0.1 b, against the profile likelihood ratio maximised numerically:
    // q0 = -2 ln L(0, b^)/L(s, b), with the background measured as b in a control region of tau = 1/(sigma^2 b).
    const tau = 1 / (0.01 * b);
    const m = tau * b;
    const n = s + b;
    const logL = (mu: number, bb: number) => n * Math.log(mu + bb) - (mu + bb) + m * Math.log(tau * bb) - tau * bb;
    let best = -Infinity;
    for (let bb = b * 0.5; bb < b * 2; bb += b * 1e-6) best = Math.max(best, logL(0, bb));
    expect(z.asimov).toBeCloseTo(Math.sqrt(2 * (logL(s, b) - best)), 4);
    expect(z.sigmaB).toBe(0.1);
  });

  it('histograms each cut variable per process, weighted, as a direct sum over the events', async () => {
    for (const d of counts.distributions) {
      expect(d.processes.map((p) => [p.process, p.role])).toEqual([
        ['ttH', 'signal'],
        ['ttbar', 'background'],
        ['WJets', 'background'],
      ]);
      for (const p of d.processes) {
        const files = SAMPLES.filter((s) => s.process === p.process);
        const rows = (
          await Promise.all(
            files.map((s) =>
              sql(
                `SELECT ${d.column} AS v, ${WEIGHT_SQL(s.norm)} AS w FROM read_parquet('${join(dir, `${s.name}.parquet`)}')`,
              ),
            ),
          )
        ).flat();
        const yields = new Array(d.edges.length - 1).fill(0);
        const sumW2 = new Array(d.edges.length - 1).fill(0);
        let outside = 0;
        for (const { v, w } of rows as { v: number; w: number }[]) {
          const k = d.edges.findIndex((e, j) => j < d.edges.length - 1 && v >= e && v < d.edges[j + 1]);
          if (k < 0) outside += w;
          else {
            yields[k] += w;
            sumW2[k] += w * w;
          }
        }
        p.yields.forEach((y, k) => expect(y).toBeCloseTo(yields[k], 9));
        p.sumW2.forEach((y, k) => expect(y).toBeCloseTo(sumW2[k], 9));
        expect(p.underflow + p.overflow + p.missing).toBeCloseTo(outside, 9);
      }
    }
  });
});

describe('stacked plots', () => {
  it('stack the backgrounds bin by bin, with the band sqrt(sum w^2) around their total and signal as a line', () => {
    const d = counts.distributions[0];
    const rows = stackedRows(d);
    const [ttH, ttbar, wjets] = d.processes;
    for (let k = 0; k < d.edges.length - 1; k++) {
      const inBin = rows.boxes.filter((b) => b.x === d.edges[k]);
      expect(inBin.map((b) => b.process)).toEqual(['ttbar', 'WJets']);
      expect(inBin[0].y).toBe(0);
      expect(inBin[1].y).toBe(inBin[0].y2);
      expect(inBin[1].y2).toBeCloseTo(ttbar.yields[k] + wjets.yields[k], 12);
      const error = Math.sqrt(ttbar.sumW2[k] + wjets.sumW2[k]);
      expect(rows.band[k].high - rows.band[k].low).toBeCloseTo(2 * error, 12);
      expect(rows.lines[k]).toEqual({ process: 'ttH', x: d.edges[k], y: ttH.yields[k] });
    }
  });

  it('are written as PNG and SVG, linear and log-y', async () => {
    for (const logY of [false, true]) {
      const out = join(dir, logY ? 'log' : 'linear');
      await mkdir(out);
      const pngs = await plotStackedCuts(counts.distributions, out, { logY });
      expect(pngs.map((p) => p.slice(out.length + 1))).toEqual(['stack-1-x.png', 'stack-2-y.png']);
      for (const p of pngs) {
        expect(statSync(p).size).toBeGreaterThan(5000);
        expect(existsSync(p.replace(/png$/, 'svg'))).toBe(true);
      }
    }
  });
});
