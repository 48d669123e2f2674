import * as tf from '@tensorflow/tfjs-core';
import type { EventBatch } from '../batch/batch.js';
import { cutEdges } from '../model/cuts.js';
import type { LossBatch } from '../model/losses.js';
import { hasCuts, hasMlp, type SelectionModel } from '../model/model.js';
import { paddedObject } from '../model/objectCuts.js';
import type { PreparedBatch } from '../model/preparedBatch.js';
import type { ObjectTensors } from '../model/tfModel.js';
import { valuesOf } from '../selection/expr/index.js';
import { parseObjectTemplate } from '../selection/objectCut.js';
import { eventBytes, type EventBytesModel } from './eventBytes.js';
import { eventLabels, eventWeights } from './eventWeights.js';

/** What turns an event batch into training arrays. */
export interface BatchLayout {
  model: SelectionModel;
  label: string;
  weight?: string;
  /** Multiplies the weight of each class (class balancing); 1 and 1 to leave weights alone. */
  classFactor: { signal: number; background: number };
  bytes: EventBytesModel;
  /** With column gates: the bytes model of each candidate column (bytes then holds the pinned ones). */
  candidateBytes?: EventBytesModel[];
  /** The column gates' temperature this epoch (see columnGates.ts). */
  gateTemperature?: number;
  /** Whose bytes the size term counts: every event's (default) or the background's only. */
  sizeOver?: 'all' | 'background';
}

export function prepareBatch(layout: BatchLayout, batch: EventBatch): PreparedBatch {
  const { model } = layout;
  const n = batch.length;
  const label = new Float32Array(eventLabels(batch, layout.label));
  const w = eventWeights(batch, layout.weight);
  const fullWeight = new Float64Array(n);
  for (let i = 0; i < n; i++)
    fullWeight[i] = (w ? w[i] : 1) * (label[i] ? layout.classFactor.signal : layout.classFactor.background);

  const valid = new Uint8Array(n).fill(1);
  const edges = hasCuts(model) ? cutEdges(model.cuts) : [];
  const cutValues = new Float32Array(n * edges.length);
  const cuts = hasCuts(model) ? model.cuts : [];
  // Each column or expression evaluated once (a feature is often a cut variable too).
  const evaluated = new Map<string, Float64Array>();
  const values = (text: string) => evaluated.get(text) ?? evaluated.set(text, valuesOf(batch, text)).get(text)!;
  const cutColumns = cuts.map((c) => (c.object ? null : values(c.column)));
  const objects = cuts.flatMap((c) =>
    c.object ? [paddedObject(batch, parseObjectTemplate(c.column), c.object.mean)] : [],
  );
  for (const o of objects) for (let i = 0; i < n; i++) valid[i] &= o.valid[i];
  edges.forEach((e, k) => {
    const x = cutColumns[e.cut];
    if (!x) return;
    // ±Inf passes or fails an edge at every threshold: one that fails counts as NaN does; one
    // that passes is moved far out (1e4 spreads), where its soft weight is 1 without overflow.
    const far = e.mean + e.sign * 1e4 * (e.std || 1);
    for (let i = 0; i < n; i++) {
      const v = x[i];
      let value = v;
      if (Number.isNaN(v) || v === -e.sign * Infinity) {
        valid[i] = 0;
        value = e.mean;
      } else if (v === e.sign * Infinity) value = far;
      cutValues[i * edges.length + k] = value;
    }
  });

  const nf = hasMlp(model) ? model.features.length : 0;
  const features = new Float32Array(n * nf);
  for (let j = 0; j < nf; j++) {
    const x = values(model.features[j]);
    for (let i = 0; i < n; i++) features[i * nf + j] = Number.isFinite(x[i]) ? x[i] : model.inputMean[j];
  }

  const pinned = eventBytes(layout.bytes, batch);
  const candidates = (layout.candidateBytes ?? []).map((m) => eventBytes(m, batch));
  const bytes = candidates.length > 0 || layout.sizeOver === 'background' ? pinned.slice() : pinned;
  for (const c of candidates) for (let i = 0; i < n; i++) bytes[i] += c[i];
  const counted = (i: number) => valid[i] && !(layout.sizeOver === 'background' && label[i]);
  if (layout.sizeOver === 'background') for (let i = 0; i < n; i++) if (label[i]) bytes[i] = 0;
  const nc = candidates.length;
  const candidateBytes = new Float32Array(n * nc);
  for (let i = 0; i < n; i++)
    if (counted(i)) for (let j = 0; j < nc; j++) candidateBytes[i * nc + j] = candidates[j][i];
  const weight = new Float32Array(n);
  const keptBytes = new Float32Array(n);
  let sumWeight = 0;
  let sumSignalWeight = 0;
  let sumBackgroundWeight = 0;
  let sumBytes = 0;
  for (let i = 0; i < n; i++) {
    weight[i] = valid[i] ? fullWeight[i] : 0;
    keptBytes[i] = counted(i) ? pinned[i] : 0;
    sumWeight += weight[i];
    if (label[i]) sumSignalWeight += fullWeight[i];
    else sumBackgroundWeight += fullWeight[i];
    sumBytes += bytes[i];
  }
  return {
    n,
    features,
    cutValues,
    objects,
    label,
    weight,
    fullWeight,
    keptBytes,
    ...(nc > 0 && { candidateBytes }),
    bytes,
    sumWeight,
    sumSignalWeight,
    sumBackgroundWeight,
    sumBytes,
  };
}

export interface BatchTensors {
  features: tf.Tensor2D | null;
  cutValues: tf.Tensor2D | null;
  objects: ObjectTensors[];
  loss: LossBatch;
}

/** Tensors of a prepared batch; the caller disposes them (see disposeBatchTensors). */
export function batchTensors(p: PreparedBatch, featureCount: number, edgeCount: number): BatchTensors {
  return {
    features: featureCount > 0 ? tf.tensor2d(p.features, [p.n, featureCount]) : null,
    cutValues: edgeCount > 0 ? tf.tensor2d(p.cutValues, [p.n, edgeCount]) : null,
    objects: p.objects.map((o) => ({
      test: tf.tensor2d(o.test, [p.n, o.width]),
      weight: tf.tensor2d(o.weight, [p.n, o.width]),
    })),
    loss: {
      label: tf.tensor1d(p.label),
      weight: tf.tensor1d(p.weight),
      keptBytes: tf.tensor1d(p.keptBytes),
      ...(p.candidateBytes && { candidateBytes: tf.tensor2d(p.candidateBytes, [p.n, p.candidateBytes.length / p.n]) }),
      sumWeight: p.sumWeight,
      sumSignalWeight: p.sumSignalWeight,
      sumBackgroundWeight: p.sumBackgroundWeight,
      sumBytes: p.sumBytes,
    },
  };
}

export function disposeBatchTensors(t: BatchTensors): void {
  const all: (tf.Tensor | null | undefined)[] = [
    t.features,
    t.cutValues,
    t.loss.label,
    t.loss.weight,
    t.loss.keptBytes,
    t.loss.candidateBytes,
  ];
  for (const o of t.objects) all.push(o.test, o.weight);
  for (const x of all) x?.dispose();
}
