import { describe, expect, it } from 'vitest';
import { lossSettings } from '../../src/model/losses.js';
import { StepThreadError, threadedStepper } from '../../src/training/threadedStepper.js';
import { smallToyModel, toyBatches, toyInfo, toyLayout, toyPipeline } from './toy.js';

describe('threaded stepper', () => {
  const batches = toyBatches(2048, 1, 1024);
  const model = smallToyModel();
  const layout = toyLayout(model, toyInfo(batches));
  const settings = lossSettings(toyPipeline(), layout.bytes.bytesIn, { signal: 1, background: 1 });

  // Each way a worker can die (dyingStepWorker.ts), thread 2 of 2 at the second step; before,
  // it was found only after a 120 s wait.
  const cases = [
    ['exit', /computing the cut factors of step 2 .* failed: exited with code 7/],
    ['throw', /computing the gradient of step 2 .* failed: threw injected failure/],
    ['silent', /computing the cut factors of step 2 .* stopped \(out of memory\?\)/],
  ] as const;
  for (const [how, what] of cases)
    it(`a worker that dies mid-training (${how}) fails the step at once, naming the thread and its work`, async () => {
      const entry = new URL(`./dyingStepWorker.ts?thread=1&how=${how}`, import.meta.url);
      const stepper = await threadedStepper(model, 0.01, 'fused-js', 2, 1024, entry);
      let steps = 0;
      const started = performance.now();
      try {
        const train = () => {
          for (const b of batches) stepper.step(settings, layout, b, 1, () => steps++);
          stepper.flush();
        };
        expect(train).toThrow(StepThreadError);
        expect(train).toThrow(/^training worker thread 2 of 2, /);
        // (The second call fails at its first step: the worker is dead.)
      } finally {
        stepper.dispose();
      }
      expect(steps).toBe(1);
      expect(performance.now() - started).toBeLessThan(10_000);
    });
});
