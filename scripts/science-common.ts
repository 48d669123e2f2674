/** Helpers shared by the science and toy scripts: the toy in memory and a pipeline for it. */
import { map } from 'rxjs';
import { type Column, type EventBatch, selectColumns } from '../src/batch/batch.js';
import type { Field } from '../src/batch/schema.js';
import { toyBatches } from '../src/datasets/toy.js';
import { type Pipeline, PipelineSchema } from '../src/pipeline/schema.js';
import { columnForm, compileExpr } from '../src/selection/expr/index.js';
import type { EventSource } from '../src/sources/types.js';
import { memoryDataset } from '../src/training/memoryDataset.js';

export function toyData(kind: 'toy2d' | 'toy6d', eventsPerClass: number, seed: number): EventBatch[] {
  return [...toyBatches({ kind, eventsPerClass, seed, batchSize: 8192 })];
}

export { memoryDataset };

/**
 * A memory dataset's source whose batches hold the columns asked for as a Parquet source reads
 * them (the memory dataset hands every column, passengers included): columns as they are,
 * count(x) as x's list lengths (int32, without the list's values), and for other expressions
 * the columns they read.
 */
export function projectedSource(source: EventSource): EventSource {
  const project = (b: EventBatch, texts: string[]): EventBatch => {
    const counts = texts.flatMap((text) => {
      const form = b.columns[text] ? null : columnForm(compileExpr(text));
      return form?.fn === 'count' ? [{ text, list: b.columns[form.column] }] : [];
    });
    const read = [...new Set(texts.filter((t) => !counts.some((c) => c.text === t)))].flatMap((t) =>
      b.columns[t] ? [t] : compileExpr(t).columns,
    );
    const out = selectColumns(b, [...new Set(read)]);
    const fields: Field[] = counts.map(({ text }) => ({ name: text, type: 'int32', list: false, nullable: false }));
    const columns = counts.map(({ text, list }): [string, Column] => {
      if (list.kind !== 'list') throw new Error(`'${text}': not of a list column`);
      const values = Int32Array.from({ length: b.length }, (_, i) => list.offsets[i + 1] - list.offsets[i]);
      return [text, { kind: 'flat', values }];
    });
    return { ...out, schema: [...out.schema, ...fields], columns: { ...out.columns, ...Object.fromEntries(columns) } };
  };
  return {
    ...source,
    batches: (o = {}) => source.batches(o).pipe(map((b) => (o.columns ? project(b, o.columns) : b))),
  };
}

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
export function efficiencies(
  batches: EventBatch[],
  pass: (b: EventBatch) => Uint8Array,
): { signal: number; background: number } {
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
  /** Fraction of events a cut on a pure-noise feature keeps (1: no such cut). */
  prescale: number;
}

/**
 * Brute-force optimum of the rectangular cut x > cx, y > cy: the highest signal efficiency
 * with a background kept fraction at most `maxBackground`. cx runs over `steps` quantiles of
 * the signal's x (plus -infinity); for each, every cy between background y values is tried.
 * With `noiseCut`, the rectangle may be combined with a cut on a pure-noise feature, which
 * keeps the same fraction f of both classes (in expectation): the efficiency is then
 * S f with f = min(1, maxBackground / B), the concave hull of the rectangle's frontier.
 */
export function gridOptimum(
  batches: EventBatch[],
  maxBackground: number,
  options: { steps?: number; noiseCut?: boolean } = {},
): GridOptimum {
  const steps = options.steps ?? 400;
  const sx: number[] = [];
  const sy: number[] = [];
  const bx: number[] = [];
  const by: number[] = [];
  for (const b of batches) {
    const [x, y, label] = [b.columns.x.values, b.columns.y.values, b.columns.label.values] as Float32Array[];
    for (let i = 0; i < b.length; i++) ((label[i] ? sx : bx).push(x[i]), (label[i] ? sy : by).push(y[i]));
  }
  const [ns, nb] = [sx.length, bx.length];
  const sortedSx = sx.slice().sort((a, b) => a - b);
  const candidates = [-Infinity, ...Array.from({ length: steps }, (_, k) => sortedSx[Math.floor((k / steps) * ns)])];
  let best: GridOptimum = { signal: 0, background: 0, cx: Infinity, cy: Infinity, prescale: 1 };
  for (const cx of candidates) {
    // y values passing x > cx, tagged by class, from the highest down: lowering cy past each adds one event.
    const events: [number, number][] = [];
    for (let i = 0; i < ns; i++) if (sx[i] > cx) events.push([sy[i], 1]);
    for (let i = 0; i < nb; i++) if (bx[i] > cx) events.push([by[i], 0]);
    events.sort((a, b) => b[0] - a[0]);
    let [s, b] = [0, 0];
    for (let k = 0; k < events.length; k++) {
      if (events[k][1]) s++;
      else b++;
      // cy just below events[k] (equal values are taken together).
      if (k + 1 < events.length && events[k + 1][0] === events[k][0]) continue;
      const cy = k + 1 < events.length ? events[k + 1][0] : -Infinity;
      const background = b / nb;
      const prescale = options.noiseCut ? Math.min(1, maxBackground / background) : 1;
      if (background * prescale > maxBackground) continue;
      const signal = (s / ns) * prescale;
      if (signal > best.signal) best = { signal, background: background * prescale, cx, cy, prescale };
    }
  }
  return best;
}
