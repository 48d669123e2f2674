import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { FUSED, FUSED_MAX_LAYER, initBackend, trainingBackend } from '../../src/training/backend.js';

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

  it('training: auto takes the fused kernel up to FUSED_MAX_LAYER weights a layer, TF.js beyond', async () => {
    expect(await trainingBackend('auto', 15 * 30)).toEqual({ name: FUSED });
    const wide = await trainingBackend('auto', FUSED_MAX_LAYER + 1);
    expect(wide.name).toBe((await nativeInstalled()) ? 'tensorflow' : 'wasm');
    expect(wide.note).toMatch(/widest MLP layer has 1025 weights, more than the fused kernel's 1024/);
    expect(await trainingBackend('fused', 64 * 64)).toEqual({ name: FUSED });
    expect(await trainingBackend('cpu', 2)).toEqual({ name: 'cpu' });
    process.env.DIFFSKIM_BACKEND = 'fused';
    expect((await trainingBackend('wasm', 2)).name).toBe(FUSED);
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
