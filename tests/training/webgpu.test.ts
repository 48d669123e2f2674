import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { CutSpec } from '../../src/model/cuts.js';
import { type LossSettings, tfLoss } from '../../src/model/losses.js';
import type { ModelKind } from '../../src/model/model.js';
import { TfSelectionModel } from '../../src/model/tfModel.js';
import { initBackend } from '../../src/training/backend.js';
import { eventBytesModel } from '../../src/training/eventBytes.js';
import { batchTensors, type BatchLayout, disposeBatchTensors, prepareBatch } from '../../src/training/prepare.js';
import { trainSelection } from '../../src/training/trainer.js';
import { trainStepAsync } from '../../src/training/steppers.js';
import { startWebGpu, WebGpuError } from '../../src/training/webgpu.js';
import { toolMissing } from '../helpers/tools.js';
import { BASE_LOSS, cut, model, uniformBatch, uniformInfo } from '../model/helpers.js';
import { memorySource, toyBatches, toyInfo, toyPipeline } from './toy.js';

/**
 * TF.js' WebGPU backend on Dawn (optional packages), on any adapter: on a machine without a GPU,
 * Mesa's llvmpipe through Dawn's OpenGL backend (.ci/run installs Mesa's EGL and GL drivers).
 */
const adapter = await startWebGpu(true);
const skip = toolMissing(
  'a WebGPU adapter',
  adapter ? null : 'the optional packages webgpu and @tensorflow/tfjs-backend-webgpu, or an adapter Dawn can open',
);

interface GPUDeviceLike {
  createBuffer(descriptor: { size: number; usage: number }): unknown;
}

const batch = uniformBatch(300, 5);
const info = uniformInfo(batch);
const LOSSES: [string, LossSettings][] = [
  ['bce + size term', { ...BASE_LOSS, lambda: 0.7 }],
  ['s/sqrt(b)', { ...BASE_LOSS, kind: 's-over-sqrt-b', lambda: 0.2 }],
];
const CUTS: CutSpec[] = [
  cut('a', '>', 'sigmoid', 0.9, { value: -1.5 }),
  cut('b', 'between', 'erf', 0.6, { low: -2.5, high: 3 }),
];

function layoutOf(kind: ModelKind): BatchLayout {
  return {
    model: model(kind, kind === 'mlp' ? [] : CUTS),
    label: 'label',
    weight: 'weight',
    classFactor: { signal: 1.3, background: 0.8 },
    bytes: eventBytesModel(info),
  };
}

/** The loss and every gradient (trainableVariables() order) on the current backend, read asynchronously. */
async function lossAndGradient(kind: ModelKind, settings: LossSettings): Promise<number[]> {
  const layout = layoutOf(kind);
  const tm = new TfSelectionModel(layout.model);
  const t = batchTensors(prepareBatch(layout, batch), kind === 'cuts' ? 0 : 2, tm.edgeCount);
  const { value, grads } = tf.variableGrads(
    () => tfLoss(settings, tm.forward(t.features, t.cutValues, 1.3), t.loss).total,
    tm.trainableVariables(),
  );
  const parts = [await value.data(), ...(await Promise.all(tm.trainableVariables().map((v) => grads[v.name].data())))];
  tf.dispose([value, ...Object.values(grads)]);
  disposeBatchTensors(t);
  tm.dispose();
  return parts.flatMap((p) => [...p]);
}

describe.skipIf(skip)('the WebGPU backend', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('takes a software adapter only when asked for any', async () => {
    if (adapter!.software) expect(await startWebGpu(false)).toBeNull();
    else expect(await startWebGpu(false)).toEqual(adapter);
  });

  for (const kind of ['cuts-x-mlp', 'mlp', 'cuts'] as const) {
    it(`${kind}: loss and every gradient equal to WASM's within 1e-5 relative (1e-7 absolute)`, async () => {
      for (const [lossName, settings] of LOSSES) {
        await initBackend('wasm');
        const wasm = await lossAndGradient(kind, settings);
        await initBackend('webgpu');
        const gpu = await lossAndGradient(kind, settings);
        expect(gpu.length).toBe(wasm.length);
        const bad = gpu.filter((g, i) => Math.abs(g - wasm[i]) > Math.max(1e-5 * Math.abs(wasm[i]), 1e-7));
        expect(bad, lossName).toEqual([]);
        expect(Math.max(...wasm.slice(1).map(Math.abs))).toBeGreaterThan(1e-3);
      }
    });
  }

  it('stops a step with WebGpuError when the device reported an error, and does not apply it', async () => {
    await initBackend('webgpu');
    const layout = layoutOf('cuts-x-mlp');
    const tm = new TfSelectionModel(layout.model);
    const optimizer = tf.train.adam(0.01);
    // An invalid buffer usage: a validation error, which WebGPU reports apart from the call.
    (tf.backend() as unknown as { device: GPUDeviceLike }).device.createBuffer({ size: 4, usage: 0xffff });
    await expect(trainStepAsync(tm, optimizer, BASE_LOSS, layout, batch, 1)).rejects.toBeInstanceOf(WebGpuError);
    expect(optimizer.iterations).toBe(0);
    // Reported once: the next step runs.
    expect(await trainStepAsync(tm, optimizer, BASE_LOSS, layout, batch, 1)).not.toBeNull();
    expect(optimizer.iterations).toBe(1);
    tm.dispose();
    optimizer.dispose();
  });

  it('trains the toy to the validation AUC of the WASM backend within 0.001, through checkpoints', async () => {
    const data = toyBatches(3_000, 2);
    const folders = {
      webgpu: mkdtempSync(join(tmpdir(), 'diffskim-webgpu-')),
      wasm: mkdtempSync(join(tmpdir(), 'diffskim-wasm-')),
    };
    dirs.push(...Object.values(folders));
    const train = (backend: 'webgpu' | 'wasm', resume = false) =>
      trainSelection({
        settings: toyPipeline({
          loss: { size: { lambda: 0.3 } },
          training: { epochs: 3, batchSize: 512, learningRate: 0.01, seed: 3, threads: 1 },
        }),
        source: memorySource(data),
        info: toyInfo(data),
        backend,
        checkpointDir: folders[backend],
        resume,
      });
    const [gpu, wasm] = [await train('webgpu'), await train('wasm')];
    expect(gpu.backend).toBe('webgpu');
    expect(gpu.validationAuc).toBeGreaterThan(0.8);
    expect(Math.abs(gpu.validationAuc - wasm.validationAuc)).toBeLessThan(0.001);
    // The same steps: every epoch's training loss (read back asynchronously) within float32 noise.
    const losses = (r: typeof gpu) => r.history.map((h) => h.trainLoss);
    losses(gpu).forEach((l, i) => expect(Math.abs(l - losses(wasm)[i])).toBeLessThan(1e-4 * Math.abs(l)));
    // Resuming the finished run restores the checkpoint's variables and trains nothing: the same model.
    const again = await train('webgpu', true);
    expect(again.model.cuts).toEqual(gpu.model.cuts);
    expect(again.model.layers).toEqual(gpu.model.layers);
  });
});
