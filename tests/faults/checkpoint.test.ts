import { spawn } from 'node:child_process';
import { copyFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, saveModel } from '../../src/model/io.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/training/checkpoint.js';
import { modelOfStep } from './fixtures/checkpointLoop.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

const weights = (m: ReturnType<typeof modelOfStep>) => [
  ...m.layers.flatMap((l) => [...l.kernel, ...l.bias]),
  m.cuts[0].value,
];

describe('training checkpoints', () => {
  it('save then load gives the same model; a NaN/Inf loss or weight is never saved', async () => {
    const ck = join(dir, 'plain');
    expect(await loadCheckpoint(ck)).toBeNull();
    expect(await saveCheckpoint(ck, modelOfStep(1), { epoch: 0, step: 1, loss: 0.5 })).toBeNull();
    expect(await saveCheckpoint(ck, modelOfStep(2), { epoch: 0, step: 2, loss: NaN })).toMatch(
      /loss is NaN at step 2: checkpoint not saved/,
    );
    expect(await saveCheckpoint(ck, modelOfStep(2), { epoch: 0, step: 2, loss: Infinity })).toMatch(/loss is Infinity/);
    const poisoned = modelOfStep(3);
    poisoned.layers[1].kernel[7] = NaN;
    expect(await saveCheckpoint(ck, poisoned, { epoch: 0, step: 3, loss: 0.1 })).toBe(
      'layer 1 kernel[7] = NaN at step 3: checkpoint not saved',
    );
    const cut = modelOfStep(4);
    cut.cuts[0].value = -Infinity;
    expect(await saveCheckpoint(ck, cut, { epoch: 0, step: 4, loss: 0.1 })).toMatch(/cut on a: value = -Infinity/);
    const back = (await loadCheckpoint(ck))!;
    expect(back.info).toEqual({ epoch: 0, step: 1, loss: 0.5 });
    expect(weights(back.model)).toEqual(weights(modelOfStep(1)));
    // Newer saves replace it; only the newest and one older model folder are kept.
    for (const step of [5, 6, 7]) await saveCheckpoint(ck, modelOfStep(step), { epoch: 1, step, loss: 0.1 });
    expect((await loadCheckpoint(ck))!.info.step).toBe(7);
    expect((await readdir(ck)).filter((n) => n.startsWith('step-'))).toHaveLength(2);
  });

  it("a model folder whose weights.bin is another save's (killed between its two files) is refused", async () => {
    const [a, b] = [join(dir, 'model-a'), join(dir, 'model-b')];
    await saveModel(a, modelOfStep(1));
    await saveModel(b, modelOfStep(2)); // same architecture, other weights
    expect(weights(await loadModel(a))).toEqual(weights(modelOfStep(1)));
    await copyFile(join(b, 'weights.bin'), join(a, 'weights.bin')); // the new weights, the old model.json
    await expect(loadModel(a)).rejects.toThrow(
      `${join(a, 'weights.bin')}: not the weights ${join(a, 'model.json')} was saved with`,
    );
  });

  it('kill -9 while checkpoints are being written leaves a loadable, finite, complete latest checkpoint', async () => {
    const ck = join(dir, 'killed');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures/checkpointLoop.ts'), ck],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    let saved = 0;
    await new Promise<void>((resolve) =>
      createInterface({ input: child.stdout! }).on('line', (line) => {
        saved = Number(line);
        // Kill at an arbitrary point of a later save (each takes a few ms).
        if (saved === 5) setTimeout(resolve, Math.random() * 20);
      }),
    );
    child.kill('SIGKILL');
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
    const back = (await loadCheckpoint(ck))!;
    // The newest complete checkpoint: the last one reported, or one saved after it but not yet reported.
    expect(back.info.step).toBeGreaterThanOrEqual(saved);
    expect(weights(back.model)).toEqual(weights(modelOfStep(back.info.step)));
    // The next save (a new process) removes the dead writer's temp folder.
    await saveCheckpoint(ck, modelOfStep(100), { epoch: 9, step: 100, loss: 0.01 });
    expect((await readdir(ck)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    expect((await loadCheckpoint(ck))!.info.step).toBe(100);
  }, 30_000);
});
