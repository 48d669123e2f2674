import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';

/** The adapter TF.js' WebGPU backend runs on, as Dawn names it. */
export interface GpuAdapter {
  /** Dawn's backend: 'default' (Vulkan on Linux, Metal, D3D12) or 'opengl' (compatibility mode). */
  dawnBackend: string;
  /** Device and driver, e.g. 'llvmpipe-llvm-15-0-6-256-bits- (OpenGL version 4.5 (Core Profile) Mesa 22.3.6)'. */
  name: string;
  /** A CPU implementation of the GPU API (Mesa's llvmpipe or lavapipe, SwiftShader): slower than the fused kernel. */
  software: boolean;
}

/** The little of Dawn's API used here (the `webgpu` package's own types need @webgpu/types). */
interface Dawn {
  create(options: string[]): { requestAdapter(options: object): Promise<Adapter | null> };
  globals: object;
}
interface Adapter {
  info: { device: string; description: string; isFallbackAdapter?: boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: { requiredLimits?: Record<string, number> }): Promise<Device>;
}
interface Device {
  addEventListener(type: 'uncapturederror', listener: (e: { error: { message: string } }) => void): void;
}

/** A WebGPU validation or out-of-memory error (Dawn reports them apart from the call that made them). */
export class WebGpuError extends Error {}

// Optional packages: named through a variable so that the build does not need them.
const DAWN = 'webgpu';
const TFJS_WEBGPU = '@tensorflow/tfjs-backend-webgpu';
const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader/i;

let dawnLoaded: Promise<Dawn | null> | undefined;
const adapters = new Map<string, Promise<{ adapter: Adapter; found: GpuAdapter } | null>>();
let current: Adapter | undefined;
let firstError: string | undefined;

/**
 * Makes TF.js' WebGPU backend (@tensorflow/tfjs-backend-webgpu), on Dawn (the optional `webgpu`
 * package: a prebuilt dawn.node per platform inside its npm tarball), the current TF.js backend;
 * returns its adapter, or null when either package is missing or Dawn finds no adapter (with
 * `software` false: no hardware one). Dawn's default backend first (Vulkan on Linux); with
 * `software`, then its OpenGL backend in WebGPU's compatibility mode, which finds Mesa's llvmpipe
 * through surfaceless EGL on a machine without a GPU (Mesa 22's lavapipe lacks a Vulkan feature
 * Dawn requires). Node 20 has no `navigator`: TF.js finds Dawn as `navigator.gpu`, set here.
 */
export async function startWebGpu(software: boolean): Promise<GpuAdapter | null> {
  const dawn = await (dawnLoaded ??= loadDawn());
  if (!dawn) return null;
  for (const dawnBackend of software ? ['default', 'opengl'] : ['default']) {
    if (!adapters.has(dawnBackend)) adapters.set(dawnBackend, findAdapter(dawn, dawnBackend));
    const got = await adapters.get(dawnBackend)!;
    if (!got || (got.found.software && !software)) continue;
    if (current && current !== got.adapter) return null; // TF.js keeps the device of its first start
    current = got.adapter;
    return (await tf.setBackend('webgpu')) ? got.found : null;
  }
  return null;
}

/**
 * Throws the first error the device reported since the last call. WebGPU reports a failed
 * pipeline or buffer apart from the call that made it, and TF.js does not look: its results
 * would be garbage, silently. Called after each training step's values are read back.
 */
export function throwWebGpuError(): void {
  if (firstError === undefined) return;
  const message = firstError;
  firstError = undefined;
  throw new WebGpuError(`WebGPU failed: ${message}`);
}

/**
 * Whether this machine may have a GPU: on Linux a DRM or NVIDIA device node. 'auto' looks for
 * an adapter only then, since Dawn prints warnings on stderr wherever it finds none.
 */
export function mayHaveGpu(): boolean {
  return process.platform !== 'linux' || existsSync('/dev/dri') || existsSync('/dev/nvidiactl');
}

async function loadDawn(): Promise<Dawn | null> {
  try {
    const dawn: Dawn = await import(/* @vite-ignore */ DAWN);
    Object.assign(globalThis, dawn.globals);
    // TF.js asks for its adapter when the backend starts (at its own options, which miss
    // compatibility mode): it gets the one chosen here. The backend registers itself on import
    // only where navigator.gpu exists.
    setNavigatorGpu({ requestAdapter: async () => current ?? null });
    await import(/* @vite-ignore */ TFJS_WEBGPU);
    return dawn;
  } catch {
    return null;
  }
}

async function findAdapter(dawn: Dawn, dawnBackend: string) {
  // Surfaceless EGL: no display needed (Mesa reads it when Dawn opens EGL).
  if (dawnBackend === 'opengl') process.env.EGL_PLATFORM ??= 'surfaceless';
  const gpu = dawn.create(dawnBackend === 'default' ? [] : [`backend=${dawnBackend}`]);
  const adapter =
    (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ??
    (await gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel: 'compatibility' }));
  if (!adapter) return null;
  const { device, description } = adapter.info;
  const name = [device, description && `(${description})`].filter(Boolean).join(' ');
  watchDevice(adapter, gpu);
  return { adapter, found: { dawnBackend, name, software: !!adapter.info.isFallbackAdapter || SOFTWARE.test(name) } };
}

/**
 * TF.js asks for its device with the default limit of 8 storage buffers per shader stage, which
 * its AddN kernel of many gradients exceeds in compatibility mode: ask for the adapter's. Record
 * the device's first uncaptured error for throwWebGpuError(). The device holds Dawn's instance:
 * it must live as long as its devices (a collected instance aborts the process).
 */
function watchDevice(adapter: Adapter, instance: object): void {
  const requestDevice = adapter.requestDevice.bind(adapter);
  adapter.requestDevice = async (descriptor = {}) => {
    const perStage = adapter.limits.maxStorageBuffersPerShaderStage;
    const device = await requestDevice({
      ...descriptor,
      requiredLimits: { ...descriptor.requiredLimits, maxStorageBuffersPerShaderStage: perStage },
    });
    device.addEventListener('uncapturederror', (e) => (firstError ??= e.error.message));
    return Object.assign(device, { dawnInstance: instance });
  };
}

function setNavigatorGpu(gpu: object): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else g.navigator = { gpu };
}
