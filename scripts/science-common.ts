/** Helpers shared by the science and toy scripts: the toy in memory and a pipeline for it. */
import type { EventBatch } from '../src/batch/batch.js';
import { toyBatches } from '../src/datasets/toy.js';
import { type Pipeline, PipelineSchema } from '../src/pipeline/schema.js';
import { memoryDataset } from '../src/training/memoryDataset.js';

export function toyData(kind: 'toy2d' | 'toy6d', eventsPerClass: number, seed: number): EventBatch[] {
  return [...toyBatches({ kind, eventsPerClass, seed, batchSize: 8192 })];
}

export { memoryDataset };

/** A pipeline on the toy (label, weight, features x, y, '>' cuts on x and y) with overrides. */
export function toyPipeline(overrides: Record<string, unknown> = {}): Pipeline {
  return PipelineSchema.parse({
    name: 'toy',
    source: { kind: 'parquet', paths: ['memory'] },
    label: 'label',
    weight: 'weight',
    features: ['x', 'y'],
    cuts: [
      { column: 'x', op: '>' },
      { column: 'y', op: '>' },
    ],
    ...overrides,
  });
}

/** Signal efficiency and background kept fraction of a pass mask (weights taken as 1). */
export function efficiencies(batches: EventBatch[], pass: (b: EventBatch) => Uint8Array): { signal: number; background: number } {
  let [sig, sigKept, bkg, bkgKept] = [0, 0, 0, 0];
  for (const b of batches) {
    const label = b.columns.label.values as Int32Array;
    const p = pass(b);
    for (let i = 0; i < b.length; i++) {
      if (label[i]) [sig, sigKept] = [sig + 1, sigKept + p[i]];
      else [bkg, bkgKept] = [bkg + 1, bkgKept + p[i]];
    }
  }
  return { signal: sigKept / sig, background: bkgKept / bkg };
}

export interface GridOptimum {
  signal: number;
  background: number;
  cx: number;
  cy: number;
}

/**
 * Brute-force optimum of the rectangular cut x > cx, y > cy: the highest signal efficiency
 * with a background kept fraction at most `maxBackground`. cx runs over `steps` quantiles of
 * the signal's x (plus -infinity); for each, cy is found exactly (the loosest y cut that meets
 * the background limit, from the sorted background y values that pass x > cx).
 */
export function gridOptimum(batches: EventBatch[], maxBackground: number, steps = 400): GridOptimum {
  const sx: number[] = [];
  const sy: number[] = [];
  const bx: number[] = [];
  const by: number[] = [];
  for (const b of batches) {
    const [x, y, label] = [b.columns.x.values, b.columns.y.values, b.columns.label.values] as Float32Array[];
    for (let i = 0; i < b.length; i++) (label[i] ? sx : bx).push(x[i]), (label[i] ? sy : by).push(y[i]);
  }
  const allowed = Math.floor(maxBackground * bx.length);
  const sortedSx = sx.slice().sort((a, b) => a - b);
  const candidates = [-Infinity, ...Array.from({ length: steps }, (_, k) => sortedSx[Math.floor((k / steps) * sortedSx.length)])];
  let best: GridOptimum = { signal: 0, background: 0, cx: Infinity, cy: Infinity };
  for (const cx of candidates) {
    const ys: number[] = [];
    for (let i = 0; i < bx.length; i++) if (bx[i] > cx) ys.push(by[i]);
    ys.sort((a, b) => b - a);
    // Keep at most `allowed` background events: cut at the (allowed+1)-th largest y (ties fail y > cy).
    const cy = allowed < ys.length ? ys[allowed] : -Infinity;
    let sig = 0;
    for (let i = 0; i < sx.length; i++) if (sx[i] > cx && sy[i] > cy) sig++;
    const signal = sig / sx.length;
    if (signal > best.signal) best = { signal, background: ys.filter((v) => v > cy).length / bx.length, cx, cy };
  }
  return best;
}
