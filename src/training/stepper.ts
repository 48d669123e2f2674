import type { EventBatch } from '../batch/batch.js';
import type { LossSettings } from '../model/losses.js';
import type { SelectionModel } from '../model/model.js';
import type { BatchLayout } from './prepare.js';

export interface StepResult {
  total: number;
  main: number;
  size: number;
  /** The soft kept fraction of the batch (what the size term counts). */
  kept: number;
}

/**
 * The model being trained and its optimiser, behind one interface for the trainer: the fused
 * typed-array kernel (src/model/fused.ts, the default on CPU) or TF.js (any backend). Both keep
 * their state as the same named float32 tensors (see trainState.ts), so checkpoints look alike;
 * a run resumes only on the backend that wrote it.
 */
export interface Stepper {
  /**
   * One Adam step on a batch; its result goes to `done` (null when skipped: no weight, or a
   * non-finite loss or gradient): at once, or with worker threads when the step completes (at
   * the next step() or flush()), so that the next batch is read and prepared meanwhile. On
   * WebGPU, which reads back asynchronously only, it returns a promise of the step: the trainer
   * awaits it before the next one. `settings` are read after the last step's `done` has run: a
   * size constraint's multiplier that `done` updates in them applies to this step, with or
   * without threads.
   */
  step(
    settings: LossSettings,
    layout: BatchLayout,
    batch: EventBatch,
    multiplier: number,
    done: (r: StepResult | null) => void,
  ): void | Promise<void>;
  /** Completes the step under way, if any (on WebGPU: reads the parameters back for snapshot() and tensors()). */
  flush(): void | Promise<void>;
  snapshot(multiplier: number): SelectionModel;
  iterations(): number;
  /** Parameters and Adam's state by name: param/i, adam/beta1^t, adam/beta2^t, adam/m/i, adam/v/i. */
  tensors(): Map<string, Float32Array>;
  restore(iterations: number, tensors: Map<string, Float32Array>): void;
  dispose(): void;
}
