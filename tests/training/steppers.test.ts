import { describe, expect, it } from 'vitest';
import { lossSettings } from '../../src/model/losses.js';
import type { Stepper, StepResult } from '../../src/training/stepper.js';
import { SizeConstraint } from '../../src/training/sizeConstraint.js';
import { fusedStepper } from '../../src/training/steppers.js';
import { threadedStepper } from '../../src/training/threadedStepper.js';
import { smallToyModel, toyBatches, toyInfo, toyLayout, toyPipeline } from './toy.js';

/** One step, its result once done. */
function stepOnce(stepper: Stepper, ...args: Parameters<Stepper['step']> extends [...infer A, unknown] ? A : never) {
  let result: StepResult | null | undefined;
  stepper.step(...args, (r) => (result = r));
  stepper.flush();
  return result;
}

describe('fused stepper', () => {
  const info = toyInfo(toyBatches(200, 1));
  const model = smallToyModel();
  const layout = toyLayout(model, info);
  const settings = lossSettings(toyPipeline(), layout.bytes.bytesIn, { signal: 1, background: 1 });

  it('skips a step whose gradient overflows float32, keeping parameters and Adam state', () => {
    // Hidden kernels of ±1e30 and an output kernel of -1e30 put every signal event at a logit
    // beyond float32 (about -1e60), whose loss and gradient are not finite.
    const kernel = (outputs: number, i: number) => (outputs === 1 || i % 2 ? -1e30 : 1e30);
    const huge = {
      ...model,
      layers: model.layers.map((l) => ({ ...l, kernel: l.kernel.map((_, i) => kernel(l.outputs, i)) })),
    };
    const stepper = fusedStepper(huge, 0.05, 'fused-js');
    const start = stepper.tensors();
    expect(stepOnce(stepper, settings, { ...layout, model: huge }, toyBatches(200, 9, 400)[0], 1)).toBeNull();
    expect(stepper.tensors()).toEqual(start);
    expect(stepper.iterations()).toBe(0);
    const sane = fusedStepper(model, 0.05, 'fused-js');
    const r = stepOnce(sane, settings, layout, toyBatches(200, 10, 400)[0], 1);
    expect(Number.isFinite(r!.total)).toBe(true);
    expect(sane.iterations()).toBe(1);
  });

  it('restores its own state exactly: the next step is the same as without the round trip', () => {
    const batches = toyBatches(400, 3, 400);
    const [a, b] = [fusedStepper(model, 0.02, 'fused-js'), fusedStepper(model, 0.02, 'fused-js')];
    stepOnce(a, settings, layout, batches[0], 1);
    stepOnce(b, settings, layout, batches[0], 1);
    const c = fusedStepper(model, 0.02, 'fused-js');
    c.restore(b.iterations(), b.tensors());
    stepOnce(a, settings, layout, batches[1], 1);
    stepOnce(c, settings, layout, batches[1], 1);
    expect(c.tensors()).toEqual(a.tensors());
    expect(c.iterations()).toBe(2);
  });
});

describe('threaded stepper with a size constraint', () => {
  const info = toyInfo(toyBatches(200, 1));
  const model = smallToyModel();
  const layout = toyLayout(model, info);
  const pipeline = toyPipeline({ loss: { kind: 'signal-efficiency', size: { targetKeptFraction: 0.2 } } });
  const settings = lossSettings(pipeline, layout.bytes.bytesIn, { signal: 1, background: 1 });

  /**
   * Steps as the trainer takes them: each step's `done` feeds its kept fraction to the constraint,
   * whose multiplier and target the next step uses (and divides the gradient by 1 + mu with).
   */
  async function train(stepper: Stepper, batches: ReturnType<typeof toyBatches>) {
    const constraint = SizeConstraint.start(settings, batches.length)!;
    const current = { ...settings };
    constraint.apply(current);
    const multipliers: number[] = [];
    for (const batch of batches)
      stepper.step(current, layout, batch, 1, (r) => {
        constraint.observe(r!.kept);
        constraint.apply(current);
        multipliers.push(current.multiplier);
      });
    stepper.flush();
    const out = { tensors: stepper.tensors(), multipliers };
    stepper.dispose();
    return out;
  }

  it('on one worker thread: the same parameters and multipliers bit for bit as on this thread', async () => {
    const batches = toyBatches(4096, 5, 512);
    const here = await train(fusedStepper(model, 0.05, 'fused-js'), batches);
    const worker = await train(await threadedStepper(model, 0.05, 'fused-js', 1, 512), batches);
    // The multiplier moved, so a lag of one step or a missing 1 / (1 + mu) would show.
    expect(new Set(here.multipliers).size).toBe(batches.length);
    expect(worker.multipliers).toEqual(here.multipliers);
    expect(worker.tensors).toEqual(here.tensors);
  }, 60_000);
});
