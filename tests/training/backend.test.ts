import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { FUSED, initBackend, trainingBackend } from '../../src/training/backend.js';
import { mayHaveGpu, startWebGpu } from '../../src/training/webgpu.js';

async function nativeInstalled(): Promise<boolean> {
  try {
    await import('@tensorflow/tfjs-node' as string);
    return true;
  } catch {
    return false;
  }
}

describe('initBackend', () => {
  afterEach(() => {
    delete process.env.DIFFSKIM_BACKEND;
  });

  it('starts WASM and cpu on request and computes with them', async () => {
    for (const name of ['wasm', 'cpu'] as const) {
      expect(await initBackend(name)).toBe(name);
      expect(tf.getBackend()).toBe(name);
      expect(Array.from(tf.tidy(() => tf.erf(tf.tensor1d([0, 1]))).dataSync())[1]).toBeCloseTo(0.8427, 4);
    }
  });

  it('auto picks native TensorFlow when installed, else WASM', async () => {
    expect(await initBackend('auto')).toBe((await nativeInstalled()) ? 'tensorflow' : 'wasm');
  });

  it('training: auto takes the fused kernel (without tfjs-node-gpu or a GPU), a name that backend', async () => {
    const gpu = mayHaveGpu() && (await startWebGpu(false)) !== null;
    expect((await trainingBackend('auto')).name).toBe(gpu ? 'webgpu' : FUSED);
    expect(await trainingBackend('fused')).toEqual({ name: FUSED });
    expect(await trainingBackend('cpu')).toEqual({ name: 'cpu' });
    process.env.DIFFSKIM_BACKEND = 'fused';
    expect((await trainingBackend('wasm')).name).toBe(FUSED);
  });

  it('DIFFSKIM_BACKEND overrides the request, and must be a known name', async () => {
    process.env.DIFFSKIM_BACKEND = 'cpu';
    expect(await initBackend('wasm')).toBe('cpu');
    process.env.DIFFSKIM_BACKEND = 'gpu';
    await expect(initBackend()).rejects.toThrow(/DIFFSKIM_BACKEND='gpu'/);
  });

  it("'tensorflow' fails clearly without the native package", async () => {
    if (await nativeInstalled()) return;
    await expect(initBackend('tensorflow')).rejects.toThrow(/tfjs-node/);
  });
});
