import type { MessagePort } from 'node:worker_threads';
import type { Slopes } from '../model/fused.js';
import type { LossSettings } from '../model/losses.js';
import type { SelectionModel } from '../model/model.js';

/**
 * What threadedStepper.ts and its workers (stepWorker.ts) share: the control slots, one per
 * worker (BUSY while it works, then DONE or FAILED), the parameters, each worker's results, and
 * the batch being stepped, all in SharedArrayBuffers; commands go over a MessagePort.
 */
export const [BUSY, DONE, FAILED] = [1, 2, 3];

export interface SharedBuffers {
  control: SharedArrayBuffer;
  params: SharedArrayBuffer;
  /** Per worker: kept, sig, bkg of its slice (batchSums). */
  sums: SharedArrayBuffer;
  /** Per worker: its slice's part of the main loss and its gradient (eventGradient). */
  mains: SharedArrayBuffer;
  gradients: SharedArrayBuffer;
  features: SharedArrayBuffer;
  cutValues: SharedArrayBuffer;
  label: SharedArrayBuffer;
  weight: SharedArrayBuffer;
  keptBytes: SharedArrayBuffer;
}

export interface WorkerData {
  index: number;
  model: SelectionModel;
  port: MessagePort;
  buffers: SharedBuffers;
}

/** The batch-wide figures of a prepared batch (its arrays are in the shared buffers). */
export interface BatchFigures {
  n: number;
  sumWeight: number;
  sumSignalWeight: number;
  sumBackgroundWeight: number;
  sumBytes: number;
}

export type Command =
  | { kind: 'sums'; settings: LossSettings; multiplier: number; from: number; to: number; batch: BatchFigures }
  | { kind: 'gradient'; multiplier: number; from: number; to: number; slopes: Slopes };

export function sharedViews(b: SharedBuffers) {
  return {
    control: new Int32Array(b.control),
    params: new Float32Array(b.params),
    sums: new Float64Array(b.sums),
    mains: new Float64Array(b.mains),
    gradients: new Float64Array(b.gradients),
    batch: {
      features: new Float32Array(b.features),
      cutValues: new Float32Array(b.cutValues),
      label: new Float32Array(b.label),
      weight: new Float32Array(b.weight),
      keptBytes: new Float32Array(b.keptBytes),
    },
  };
}
