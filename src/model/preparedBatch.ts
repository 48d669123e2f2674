import type { PaddedObject } from './objectCuts.js';

/**
 * A minibatch as flat typed arrays. Events with a NaN cut variable, or an infinite one on the
 * failing side, can never pass the cuts: they get weight 0 and keptBytes 0 (their value is
 * replaced by the variable's mean so that no NaN or Inf reaches the tensors). NaN and ±Inf
 * features are replaced by their mean.
 */
export interface PreparedBatch {
  n: number;
  /** [n, features] row-major, raw values. */
  features: Float32Array;
  /** [n, edges] row-major, raw cut-variable values (0 at an object cut's edges: the model computes its soft count). */
  cutValues: Float32Array;
  /** The padded lists of each object cut (in cut order; see objectCuts.ts). */
  objects: PaddedObject[];
  label: Float32Array;
  /** Event weight times class factor, 0 where the event cannot pass. */
  weight: Float32Array;
  /** Event weight times class factor for every event. */
  fullWeight: Float64Array;
  keptBytes: Float32Array;
  /** With column gates: [n, candidates] row-major, each candidate column's bytes, 0 where keptBytes is. */
  candidateBytes?: Float32Array;
  bytes: Float64Array;
  sumWeight: number;
  sumSignalWeight: number;
  sumBackgroundWeight: number;
  sumBytes: number;
}
