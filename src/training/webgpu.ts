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

const SOFTWARE = /llvmpipe|lavapipe|softpipe|swiftshader/i;

let started: Promise<GpuAdapter | null> | undefined;

/**
 * Starts TF.js' WebGPU backend (@tensorflow/tfjs-backend-webgpu) on Dawn, the optional `webgpu`
 * package (prebuilt dawn.node per platform inside its npm tarball), and makes it the current
 * backend; returns the adapter, or null when either package is missing or Dawn finds no adapter.
 * Dawn's default backend first (Vulkan on Linux), then its OpenGL backend in WebGPU's
 * compatibility mode, which finds Mesa's software llvmpipe through surfaceless EGL on a machine
 * without a GPU (Mesa 22's lavapipe lacks a Vulkan feature Dawn requires). Node 20 has no
 * `navigator`: the backend finds Dawn as `navigator.gpu`, set here before it is imported.
 * Started once per process; later calls return the same adapter.
 */
export function startWebGpu(): Promise<GpuAdapter | null> {
  started ??= start();
  return started;
}

/** The little of Dawn's API used here (the `webgpu` package's types need @webgpu/types). */
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

let firstError: string | undefined;

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

// Optional packages: named through a variable so that the build does not need them.
const DAWN = 'webgpu';
const TFJS_WEBGPU = '@tensorflow/tfjs-backend-webgpu';

async function start(): Promise<GpuAdapter | null> {
  let dawn: Dawn;
  try {
    dawn = await import(/* @vite-ignore */ DAWN);
  } catch {
    return null;
  }
  Object.assign(globalThis, dawn.globals);
  for (const dawnBackend of ['default', 'opengl']) {
    // Surfaceless EGL: no display needed (Mesa reads it when Dawn opens EGL).
    if (dawnBackend === 'opengl') process.env.EGL_PLATFORM ??= 'surfaceless';
    const gpu = dawn.create(dawnBackend === 'default' ? [] : [`backend=${dawnBackend}`]);
    const adapter =
      (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ??
      (await gpu.requestAdapter({ powerPreference: 'high-performance', featureLevel: 'compatibility' }));
    if (!adapter) continue;
    const { device, description } = adapter.info;
    const name = [device, description && `(${description})`].filter(Boolean).join(' ');
    const found = { dawnBackend, name, software: !!adapter.info.isFallbackAdapter || SOFTWARE.test(name) };
    watchDevice(adapter);
    // TF.js asks for an adapter itself (at its own options, which miss compatibility mode): this
    // one. The object holds `gpu` too: Dawn's instance must live as long as its devices (a
    // collected instance aborts the process).
    setNavigatorGpu({ instance: gpu, requestAdapter: async () => adapter });
    try {
      await import(/* @vite-ignore */ TFJS_WEBGPU);
    } catch {
      return null;
    }
    return (await tf.setBackend('webgpu')) ? found : null;
  }
  return null;
}

function setNavigatorGpu(gpu: object): void {
  const g = globalThis as { navigator?: object };
  if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  else g.navigator = { gpu };
}

/**
 * TF.js asks for its device with the default limit of 8 storage buffers per shader stage, which
 * its AddN kernel of many gradients exceeds in compatibility mode: ask for the adapter's. Record
 * the device's first uncaptured error for throwWebGpuError().
 */
function watchDevice(adapter: Adapter): void {
  const requestDevice = adapter.requestDevice.bind(adapter);
  adapter.requestDevice = async (descriptor = {}) => {
    const perStage = adapter.limits.maxStorageBuffersPerShaderStage;
    const device = await requestDevice({
      ...descriptor,
      requiredLimits: { ...descriptor.requiredLimits, maxStorageBuffersPerShaderStage: perStage },
    });
    device.addEventListener('uncapturederror', (e) => (firstError ??= e.error.message));
    return device;
  };
}
