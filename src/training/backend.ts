import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { registerGradients } from '../model/tfGradients.js';
import { mayHaveGpu, startWebGpu } from './webgpu.js';

export type BackendChoice = 'auto' | 'fused' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';

const CHOICES: BackendChoice[] = ['auto', 'fused', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** The name training reports for the fused typed-array kernel (src/model/fused.ts). */
export const FUSED = 'fused-js';

/**
 * The backend training runs on. 'auto': tfjs-node-gpu when it loads, else TF.js' WebGPU backend
 * when Dawn finds a hardware GPU (the optional `webgpu` package; a software adapter such as
 * Mesa's llvmpipe is 19-60x slower than the fused kernel: scripts/gpu-check.ts), else the fused
 * kernel (every model kind, loss and size term; faster than TF.js' WASM backend per CPU-second
 * at every MLP width measured, 64-64 to 512-512). A name picks that backend ('webgpu': on any
 * adapter, software ones included). DIFFSKIM_BACKEND overrides `prefer`. `tfOnly` says why the
 * model needs TF.js (column gates, object cuts: the fused kernel has neither): then 'auto' and
 * 'fused' start TF.js, with a note saying so.
 */
export async function trainingBackend(prefer: BackendChoice, tfOnly?: string): Promise<TrainingBackend> {
  const choice = chosen(prefer);
  if (tfOnly && (choice === 'fused' || choice === 'auto')) {
    const name = await initBackend('auto');
    return { name, note: `trained on TF.js '${name}', not the fused kernel: ${tfOnly}` };
  }
  if (choice === 'fused') return { name: FUSED };
  if (choice === 'auto') {
    registerGradients();
    if (await tryNative('@tensorflow/tfjs-node-gpu')) return { name: tf.getBackend() };
    if (mayHaveGpu() && (await startWebGpu(false))) return { name: 'webgpu' };
    return { name: FUSED };
  }
  return { name: await initBackend(choice) };
}

export interface TrainingBackend {
  name: string;
  /** Why 'auto' or 'fused' did not take the fused kernel, when it did not for this model. */
  note?: string;
}

function chosen(prefer: BackendChoice): BackendChoice {
  const env = process.env.DIFFSKIM_BACKEND as BackendChoice | undefined;
  if (env && !CHOICES.includes(env)) throw new Error(`DIFFSKIM_BACKEND='${env}' is not one of ${CHOICES.join(', ')}`);
  return env ?? prefer;
}

/**
 * Picks and starts a TensorFlow.js backend; returns the name of the one that runs.
 * 'auto' tries the native bindings (tfjs-node-gpu, then tfjs-node: optional, usually absent),
 * then WASM with SIMD, then plain JS ('cpu'). DIFFSKIM_BACKEND overrides `prefer`.
 * In Node the WASM backend runs on one thread (threads do not start under Node 20).
 */
export async function initBackend(prefer: BackendChoice = 'auto'): Promise<string> {
  registerGradients();
  const choice = chosen(prefer);
  if (choice === 'webgpu') {
    if (await startWebGpu(true)) return 'webgpu';
    throw new Error(
      "backend 'webgpu' needs the optional packages webgpu and @tensorflow/tfjs-backend-webgpu and a GPU adapter " +
        'that Dawn can open (scripts/gpu-check.ts says which it finds)',
    );
  }
  const tried: string[] = [];
  if (choice === 'auto' || choice === 'tensorflow') {
    for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      if (await tryNative(pkg)) return tf.getBackend();
      tried.push(pkg);
    }
    if (choice === 'tensorflow')
      throw new Error(`backend 'tensorflow' needs ${tried.join(' or ')}, which could not be loaded`);
  }
  if (choice === 'auto' || choice === 'wasm') {
    if (await tryWasm()) return 'wasm';
    if (choice === 'wasm') throw new Error("backend 'wasm' could not start (@tensorflow/tfjs-backend-wasm)");
  }
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error("backend 'cpu' could not start");
  await tf.ready();
  return 'cpu';
}

async function tryNative(pkg: string): Promise<boolean> {
  try {
    // The native packages register the 'tensorflow' backend on import.
    await import(/* @vite-ignore */ pkg);
    return (await tf.setBackend('tensorflow')) && tf.getBackend() === 'tensorflow';
  } catch {
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(dirname(main) + sep);
    if (!(await tf.setBackend('wasm'))) return false;
    await tf.ready();
    return tf.getBackend() === 'wasm';
  } catch {
    return false;
  }
}
