import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatAsFloat64 } from '../../src/batch/batch.js';
import { cutEdges } from '../../src/model/cuts.js';
import { loadModel, saveModel } from '../../src/model/io.js';
import type { SelectionModel } from '../../src/model/model.js';
import { hardCutPass, mlpScore, scoreBatch } from '../../src/model/score.js';
import { toCutsFile } from '../../src/model/toCutsFile.js';
import { passMask } from '../../src/selection/cutsFile.js';
import { initBackend } from '../../src/training/backend.js';
import { cut, model, tfForward, uniformBatch } from './helpers.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const batch = uniformBatch(500, 11);
const a = flatAsFloat64(batch, 'a');
const b = flatAsFloat64(batch, 'b');

function mixedModel(): SelectionModel {
  const m = model('cuts-x-mlp', [
    cut('a', '>', 'sigmoid', 1.3, { value: -1 }),
    cut('b', 'between', 'erf', 0.8, { low: -3, high: 2.5 }),
    cut('count(hits)', '<', 'sigmoid', 3, { value: 1.5 }),
  ]);
  m.slopeMultiplier = 1.7;
  return m;
}

function tfInputs(m: SelectionModel): { cutValues: number[][]; features: number[][] } {
  const hits = batch.columns.hits;
  const count = (i: number) => (hits.kind === 'list' ? hits.offsets[i + 1] - hits.offsets[i] : 0);
  const values: Record<string, (i: number) => number> = { a: (i) => a[i], b: (i) => b[i], 'count(hits)': count };
  const edges = cutEdges(m.cuts);
  return {
    cutValues: Array.from(a, (_, i) => edges.map((e) => values[m.cuts[e.cut].column](i))),
    features: Array.from(a, (_, i) => [a[i], b[i]]),
  };
}

describe('JS forward pass', () => {
  for (const kind of ['cuts-x-mlp', 'mlp', 'cuts'] as const) {
    it(`scoreBatch equals the TF forward pass (${kind})`, () => {
      const m = {
        ...mixedModel(),
        kind,
        ...(kind === 'mlp' ? { cuts: [] } : {}),
        ...(kind === 'cuts' ? { layers: [] } : {}),
      };
      const { cutValues, features } = tfInputs(m);
      const tfOut = tfForward(m, cutValues, features);
      const js = scoreBatch(m, batch);
      let spread = 0;
      for (let i = 0; i < js.length; i++) {
        expect(js[i]).toBeCloseTo(tfOut.cut[i] * tfOut.mlp[i], 5);
        spread = Math.max(spread, Math.abs(js[i] - js[0]));
      }
      expect(spread).toBeGreaterThan(0.1);
      if (kind !== 'cuts') {
        const score = mlpScore(m, batch);
        for (let i = 0; i < score.length; i++) expect(score[i]).toBeCloseTo(tfOut.mlp[i], 5);
      }
    });
  }
});

describe('model folder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-model-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips thresholds, slopes, weights and scores', async () => {
    const m = mixedModel();
    m.backend = 'cpu';
    await saveModel(join(dir, 'model'), m);
    const json = JSON.parse(await readFile(join(dir, 'model', 'model.json'), 'utf8'));
    expect(json.cuts[1]).toMatchObject({ column: 'b', op: 'between', form: 'erf', low: -3, high: 2.5, slope: 0.8 });
    const bin = await readFile(join(dir, 'model', 'weights.bin'));
    expect(bin.length).toBe(4 * m.layers.reduce((s, l) => s + l.kernel.length + l.bias.length, 0));
    expect(bin.readFloatLE(4)).toBe(m.layers[0].kernel[1]);

    const back = await loadModel(join(dir, 'model'));
    expect(back.cuts).toEqual(m.cuts);
    expect(back.slopeMultiplier).toBe(1.7);
    expect(back.backend).toBe('cpu');
    back.layers.forEach((l, i) => {
      expect(Array.from(l.kernel)).toEqual(Array.from(m.layers[i].kernel));
      expect(Array.from(l.bias)).toEqual(Array.from(m.layers[i].bias));
    });
    expect(Array.from(scoreBatch(back, batch))).toEqual(Array.from(scoreBatch(m, batch)));
  });

  it('names the file when the folder holds no model', async () => {
    await expect(loadModel(join(dir, 'nothing'))).rejects.toThrow(/nothing\/model\.json/);
  });
});

describe('toCutsFile', () => {
  it('turns learned thresholds into the hard cuts the skim applies', () => {
    const m = mixedModel();
    const file = toCutsFile(m, 0.3);
    expect(file.cuts).toEqual([
      { column: 'a', op: '>', value: -1 },
      { column: 'b', op: 'between', low: -3, high: 2.5 },
      { column: 'count(hits)', op: '<', value: 1.5 },
    ]);
    expect(file.score).toEqual({ op: '>', value: 0.3 });
    const pass = hardCutPass(m, batch);
    expect(Array.from(pass)).toEqual(Array.from(passMask(batch, file.cuts)));
    for (let i = 0; i < a.length; i++) {
      const hits =
        batch.columns.hits.kind === 'list' ? batch.columns.hits.offsets[i + 1] - batch.columns.hits.offsets[i] : 0;
      expect(pass[i]).toBe(a[i] > -1 && b[i] > -3 && b[i] < 2.5 && hits < 1.5 ? 1 : 0);
    }
    expect(() => toCutsFile({ ...m, kind: 'cuts', layers: [] }, 0.5)).toThrow(/score cut needs a classifier/);
  });
});
