import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBatches, type EventBatch } from '../../src/batch/batch.js';
import { cutEdges, type CutSpec } from '../../src/model/cuts.js';
import { LossAccumulator, type LossSettings, tfLoss } from '../../src/model/losses.js';
import { createModel, type SelectionModel } from '../../src/model/model.js';
import { objectReduction } from '../../src/model/objectCuts.js';
import { logCutWeights, softCutWeights } from '../../src/model/score.js';
import { TfSelectionModel } from '../../src/model/tfModel.js';
import { toCutsFile } from '../../src/model/toCutsFile.js';
import { PipelineSchema } from '../../src/pipeline/schema.js';
import { cutsToSql, passMask } from '../../src/selection/cutsFile.js';
import { printNode } from '../../src/selection/expr/ast.js';
import { compileExpr, evaluate } from '../../src/selection/expr/index.js';
import { objectText, parseObjectTemplate } from '../../src/selection/objectCut.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { initBackend } from '../../src/training/backend.js';
import { eventBytesModel } from '../../src/training/eventBytes.js';
import { batchTensors, type BatchLayout, disposeBatchTensors, prepareBatch } from '../../src/training/prepare.js';
import { sql, tempDir } from '../parquet/helpers.js';

/**
 * Object cuts (count(jet_pt > $c), sum(jet_pt[jet_eta < $c])): the soft count and sum in JS and
 * TF.js tend to DuckDB's hard count and sum as the slopes grow, and the gradients of the element
 * threshold and of the cut's own threshold equal central finite differences of the float64 loss.
 */
let dir: string;
let cleanup: () => Promise<void>;
let file: string;
let batch: EventBatch;

beforeAll(async () => {
  await initBackend('cpu');
  ({ dir, cleanup } = await tempDir());
  file = join(dir, 'jets.parquet');
  // Compared as doubles, as diffskim compares (DuckDB would compare a FLOAT column with 0.35 as FLOAT).
  // 0-5 jets per event, pT 20-120 (signal events harder), |eta| < 2.5 on a grid of 0.01.
  await sql(`COPY (SELECT i AS id, (i % 3 = 0)::INTEGER AS label, 1.0 + (i % 5) / 10 AS weight,
      [(20 + (hash(i, j) % 10000) / 100.0 * (CASE WHEN i % 3 = 0 THEN 1.0 ELSE 0.6 END))::FLOAT
        FOR j IN range((hash(i) % 6)::BIGINT)] AS jet_pt,
      [((hash(j, i) % 500) / 100.0 - 2.5)::FLOAT FOR j IN range((hash(i) % 6)::BIGINT)] AS jet_eta
    FROM range(3000) t(i)) TO '${file}' (FORMAT parquet)`);
  batch = concatBatches(await lastValueFrom(parquetSource([file]).batches().pipe(toArray())));
});
afterAll(() => cleanup());

function objectCut(column: string, c: number, slope: number, outer: Partial<CutSpec>): CutSpec {
  return {
    column,
    op: '>',
    form: 'sigmoid',
    slope,
    mean: 1.5,
    std: 1.3,
    object: { threshold: c, slope, mean: 55, std: 25 },
    ...outer,
  };
}

const cutsModel = (cuts: CutSpec[]): SelectionModel =>
  createModel({ kind: 'cuts', features: [], inputMean: [], inputStd: [], hidden: [], cuts, seed: 1 });

function layoutOf(m: SelectionModel): BatchLayout {
  const n = batch.length;
  const info = {
    files: [],
    schema: batch.schema,
    rows: n,
    bytesOnDisk: 0,
    columnBytes: { id: 8 * n, label: 4 * n, weight: 8 * n, jet_pt: 4 * n, jet_eta: 4 * n },
    columnValues: { id: n, label: n, weight: n, jet_pt: n, jet_eta: n },
  };
  return {
    model: m,
    label: 'label',
    weight: 'weight',
    classFactor: { signal: 1, background: 1 },
    bytes: eventBytesModel(info),
  };
}

/** The TF.js model's prod_k w_k per event. */
function tfWeights(m: SelectionModel, multiplier: number): Float32Array {
  const tm = new TfSelectionModel(m);
  const t = batchTensors(prepareBatch(layoutOf(m), batch), 0, tm.edgeCount);
  try {
    return tf.tidy(
      () =>
        tf.exp(tm.forward(null, t.cutValues, multiplier, { objects: t.objects }).logCut!).dataSync() as Float32Array,
    );
  } finally {
    disposeBatchTensors(t);
    tm.dispose();
  }
}

/** DuckDB's hard count or sum per event, by id. */
async function duckdb(expr: string): Promise<number[]> {
  const rows = await sql(`SELECT ${expr} AS v FROM '${file}' ORDER BY id`);
  return rows.map((r) => Number(r.v));
}

describe('object cuts', () => {
  it('the hard count and sum (the expression with c in place) equal DuckDB', async () => {
    const hard = (text: string, c: number) => evaluate(compileExpr(objectText(parseObjectTemplate(text), c)), batch);
    expect(objectText(parseObjectTemplate('count($c < jet_pt)'), 47.5)).toBe('count(47.5 < jet_pt)');
    const masked = parseObjectTemplate('count(abs(jet_eta) < 2 && jet_pt < $c)');
    expect([masked.test, masked.sign, printNode(masked.also!)]).toEqual(['jet_pt', -1, 'abs(jet_eta) < 2']);
    const count = hard('count(jet_pt > $c)', 47.5);
    expect(Array.from(count)).toEqual(await duckdb('len(list_filter(jet_pt, x -> x::DOUBLE > 47.5))'));
    const sum = hard('sum(jet_pt[jet_eta < $c])', 0.35);
    const expected = await duckdb('coalesce(list_sum(list_filter(jet_pt, (x, j) -> jet_eta[j]::DOUBLE < 0.35)), 0)');
    sum.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 3));
  });

  const LIMITS = [
    {
      name: 'count(jet_pt > $c) >= 2',
      cut: (s: number) => objectCut('count(jet_pt > $c)', 47.5, s, { value: 1.5, fixed: true }),
      hard: 'len(list_filter(jet_pt, x -> x::DOUBLE > 47.5)) >= 2',
      near: 'list_count(list_filter(jet_pt, x -> abs(x - 47.5) < 0.01)) > 0',
    },
    {
      name: 'count(jet_pt > $c && abs(jet_eta) < 1.5) >= 2',
      cut: (s: number) => objectCut('count(jet_pt > $c && abs(jet_eta) < 1.5)', 47.5, s, { value: 1.5, fixed: true }),
      hard: 'len(list_filter(jet_pt, (x, j) -> x::DOUBLE > 47.5 AND abs(jet_eta[j]::DOUBLE) < 1.5)) >= 2',
      near: 'list_count(list_filter(jet_pt, x -> abs(x - 47.5) < 0.01)) > 0',
    },
    {
      name: 'sum(jet_pt[jet_eta < $c]) > 80',
      cut: (s: number) => ({ ...objectCut('sum(jet_pt[jet_eta < $c])', 0.35, s, { value: 80 }), slope: s / 100 }),
      hard: 'coalesce(list_sum(list_filter(jet_pt, (x, j) -> jet_eta[j]::DOUBLE < 0.35)), 0) > 80',
      near: `list_count(list_filter(jet_eta, x -> abs(x - 0.35) < 0.001)) > 0
        OR abs(coalesce(list_sum(list_filter(jet_pt, (x, j) -> jet_eta[j]::DOUBLE < 0.35)), 0) - 80) < 0.01`,
    },
  ];
  for (const c of LIMITS) {
    it(`${c.name}: soft (JS and TF.js) equals DuckDB's hard cut in the steep-slope limit; gentle is soft`, async () => {
      const rows = await sql(`SELECT (${c.hard})::INTEGER AS pass, (${c.near}) AS near FROM '${file}' ORDER BY id`);
      const steep = cutsModel([c.cut(1e5)]);
      const js = softCutWeights(steep, batch);
      const tfw = tfWeights(steep, 1);
      let compared = 0;
      rows.forEach((r, i) => {
        if (r.near) return;
        compared++;
        expect(Math.abs(js[i] - Number(r.pass)), `event ${i}`).toBeLessThan(1e-6);
        expect(Math.abs(tfw[i] - Number(r.pass)), `event ${i}`).toBeLessThan(1e-5);
      });
      expect(compared).toBeGreaterThan(2800);
      // cuts.json's hard cut: the batch mask and its SQL twin select DuckDB's hard cut, every event.
      const written = toCutsFile(steep, null).cuts;
      expect(Array.from(passMask(batch, written))).toEqual(rows.map((r) => Number(r.pass)));
      const twin = await sql(`SELECT (${cutsToSql(written)})::INTEGER AS pass FROM '${file}' ORDER BY id`);
      expect(twin.map((r) => r.pass)).toEqual(rows.map((r) => r.pass));
      const passing = rows.filter((r) => r.pass).length;
      expect(passing).toBeGreaterThan(300);
      expect(passing).toBeLessThan(2700);
      const gentle = softCutWeights(cutsModel([c.cut(0.2)]), batch);
      expect(Math.max(...gentle.map((w, i) => Math.abs(w - Number(rows[i].pass))))).toBeGreaterThan(0.2);
    });
  }

  it('the hard cut in cuts.json is the integer count cut with the element threshold in place', () => {
    const m = cutsModel([
      { ...objectCut('count(jet_pt > $c)', 47.25, 1, { value: 1.5, fixed: true }), integer: true },
      objectCut('sum(jet_pt[jet_eta < $c])', 0.35, 1, { op: '<', value: 80.5 }),
    ]);
    expect(toCutsFile(m, null).cuts).toEqual([
      { column: 'count(jet_pt > 47.25)', op: '>=', value: 2 },
      { column: 'sum(jet_pt[jet_eta < 0.35])', op: '<', value: 80.5 },
    ]);
  });

  const MULTIPLIER = 1.7;
  const settings: LossSettings = {
    kind: 'bce',
    lambda: 0.6,
    target: null,
    multiplier: 0,
    signalYield: 1,
    backgroundYield: 1,
    sigmaB: 0,
  };
  function jsLoss(m: SelectionModel): number {
    const p = prepareBatch(layoutOf(m), batch);
    const acc = new LossAccumulator(settings);
    acc.add(logCutWeights(m, batch, MULTIPLIER), null, p.label, p.weight, p.keptBytes, p.bytes);
    acc.addTotals(p.label, p.fullWeight);
    return acc.result().total;
  }

  it('gradients of the element thresholds and the cuts own thresholds equal central finite differences', () => {
    const m = cutsModel([
      objectCut('count(jet_pt > $c)', 45, 0.08, { value: 1.2, slope: 1.1 }),
      objectCut('sum(jet_pt[jet_eta < $c])', 0.4, 1.2, { op: '<', value: 90, slope: 0.03, mean: 60, std: 40 }),
      objectCut('count(jet_pt > $c)', 70, 0.1, { op: 'between', value: undefined, low: 0.5, high: 1.5, fixed: true }),
      objectCut('count(abs(jet_eta) < 2 && jet_pt < $c)', 60, 0.1, { value: 1.5, slope: 0.9 }),
    ]);
    const tm = new TfSelectionModel(m);
    const t = batchTensors(prepareBatch(layoutOf(m), batch), 0, tm.edgeCount);
    try {
      const { value, grads } = tf.variableGrads(
        () => tfLoss(settings, tm.forward(null, t.cutValues, MULTIPLIER, { objects: t.objects }), t.loss).total,
        tm.trainableVariables(),
      );
      expect(value.dataSync()[0]).toBeCloseTo(jsLoss(m), 4);
      const check = (analytic: number, numeric: number) =>
        expect(Math.abs(analytic - numeric)).toBeLessThan(2e-4 + 5e-3 * Math.abs(numeric));
      const h = 1e-4;
      // Element thresholds: TF learns u = (c - mean) / std, so dL/du = std dL/dc.
      const gElement = grads[tm.elementThresholds!.name].dataSync();
      m.cuts.forEach((c, k) => {
        const at = (d: number) =>
          jsLoss({
            ...m,
            cuts: m.cuts.map((x, j) =>
              j === k ? { ...x, object: { ...x.object!, threshold: x.object!.threshold + d * x.object!.std } } : x,
            ),
          });
        const numeric = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(numeric), `cut ${k}`).toBeGreaterThan(1e-3);
        check(gElement[k], numeric);
      });
      // The cuts' own thresholds: learned ones as finite differences say, fixed ones none.
      const gu = grads[tm.thresholds!.name].dataSync();
      cutEdges(m.cuts).forEach((e, k) => {
        if (m.cuts[e.cut].fixed) return expect(Math.abs(gu[k])).toBe(0);
        const at = (d: number) =>
          jsLoss({ ...m, cuts: m.cuts.map((x, j) => (j === e.cut ? { ...x, value: x.value! + d * e.std } : x)) });
        check(gu[k], (at(h) - at(-h)) / (2 * h));
      });
      tf.dispose([value, ...Object.values(grads)]);
    } finally {
      disposeBatchTensors(t);
      tm.dispose();
    }
  });

  it('a snapshot keeps fixed thresholds and reads back the learned element thresholds', () => {
    const m = cutsModel([objectCut('count(jet_pt > $c)', 45, 0.08, { value: 1.5, fixed: true })]);
    const tm = new TfSelectionModel(m);
    try {
      tm.elementThresholds!.assign(tf.tensor1d([(52 - 55) / 25]));
      tm.thresholds!.assign(tf.tensor1d([7]));
      const snap = tm.snapshot(1, 'cpu');
      expect(snap.cuts[0].value).toBe(1.5);
      expect(snap.cuts[0].object!.threshold).toBeCloseTo(52, 5);
      const again = new TfSelectionModel(m);
      again.restore(snap);
      expect(again.elementThresholds!.dataSync()[0]).toBeCloseTo((52 - 55) / 25, 6);
      again.dispose();
    } finally {
      tm.dispose();
    }
  });

  it('the JS soft count is the sum of the entries soft steps', () => {
    const t = parseObjectTemplate('count(jet_pt > $c)');
    const soft = objectReduction(batch, t, 50, 0.1);
    const c = batch.columns.jet_pt;
    if (c.kind !== 'list') throw new Error('jet_pt');
    for (const i of [0, 1, 7, 100]) {
      let s = 0;
      for (let j = c.offsets[i]; j < c.offsets[i + 1]; j++) s += 1 / (1 + Math.exp(-0.1 * (Number(c.values[j]) - 50)));
      expect(soft[i]).toBeCloseTo(s, 12);
    }
  });
});

describe('object cuts in a pipeline file', () => {
  const issues = (cut: Record<string, unknown>) => {
    const r = PipelineSchema.safeParse({
      name: 'p',
      source: { kind: 'parquet', paths: ['x.parquet'] },
      label: 'label',
      cuts: [cut],
      model: { kind: 'cuts' },
    });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('takes a count with a fixed integer value or a learned threshold, and a sum with > or <', () => {
    expect(issues({ column: 'count(Jet_pt > $c)', op: '>=', value: 2, element: { init: 30 } })).toEqual([]);
    expect(issues({ column: 'count(Jet_pt > $c)', op: '>', element: { init: 30, slope: 0.5 } })).toEqual([]);
    expect(issues({ column: 'sum(Jet_pt[Jet_eta < $c])', op: '>', value: 300, element: { init: 2 } })).toEqual([]);
  });

  it('refuses what it cannot learn, naming the cut and the key', () => {
    expect(issues({ column: 'count(Jet_pt > $c)', op: '>=', value: 2 })).toEqual([
      "cuts.0: object cut 'count(Jet_pt > $c)': give its element threshold's start (element: {init: ...})",
    ]);
    expect(issues({ column: 'count(Jet_pt > $c)', op: '>=', value: 1.5, element: { init: 30 } })).toEqual([
      'cuts.0.value: a count is cut at an integer, not 1.5',
    ]);
    expect(issues({ column: 'sum(Jet_pt[Jet_pt > $c])', op: '>=', value: 2, element: { init: 30 } })).toEqual([
      "cuts.0.op: op '>=' is for a count with a fixed value; a sum is cut with '>' or '<'",
    ]);
    expect(issues({ column: 'count(Jet_pt > $c)', op: '>', init: 1, value: 2, element: { init: 30 } })).toEqual([
      'cuts.0.value: give value (a fixed cut) or init (a learned one), not both',
    ]);
    expect(issues({ column: 'max(Jet_pt > $c)', op: '>', element: { init: 30 } })[0]).toMatch(
      /^cuts\.0\.column: cannot learn 'max\(Jet_pt > \$c\)': a learned threshold inside a list selection is written/,
    );
    expect(issues({ column: 'MET_pt', op: '>', value: 30 })).toEqual([
      "cuts.0.value: a fixed 'value' is for an object cut's count or sum; others are learned",
    ]);
    expect(issues({ column: 'MET_pt', op: '>=' })).toEqual([
      "cuts.0.op: op '>=' is for an object cut's count with a fixed value; a learned cut is '>', '<' or 'between'",
    ]);
    expect(issues({ column: 'MET_pt', op: '>', element: { init: 30 } })).toEqual([
      "cuts.0.element: 'element' is for an object cut, whose column has a $parameter",
    ]);
  });
});
