/**
 * TF.js' WebGPU backend (Dawn, the optional `webgpu` package) against the CPU paths, in one run:
 * prints the adapter Dawn finds, then for the seed model (2 cuts x MLP 15-30-15) and the wide one
 * (20 cuts x MLP 64-64) at batch 4096 and 16384, on fixed weights and batch, the largest relative
 * difference of the loss and of every gradient between webgpu, TF.js' WASM backend and the fused
 * kernel (which sums in float64; 1e-7 absolute where smaller), and the events per wall-second
 * and per CPU-second of Adam steps (loss and gradient, the four scalars read back, the update)
 * on webgpu, on WASM and on the fused kernel (one thread). Exit status 2 when WebGPU did not
 * start (the CPU figures are printed all the same).
 *
 *   npx tsx scripts/gpu-check.ts [steps=20]
 */
import * as tf from '@tensorflow/tfjs-core';
import { Adam } from '../src/model/adam.js';
import { FusedSelectionModel } from '../src/model/fused.js';
import { tfLoss } from '../src/model/losses.js';
import { TfSelectionModel } from '../src/model/tfModel.js';
import { initBackend } from '../src/training/backend.js';
import { batchTensors, disposeBatchTensors, prepareBatch } from '../src/training/prepare.js';
import { startWebGpu } from '../src/training/webgpu.js';
import { BCE_SETTINGS, kernelSetup } from './kernel-setup.js';

const [steps = 20] = process.argv.slice(2).map(Number);

/** The kernel scripts' batch of `n` events, its layout and the batch prepared. */
function setup(n: number, features: number, hidden: number[]) {
  const { batch, layout } = kernelSetup(n, features, hidden, 'gpu-check', -1);
  return { batch, layout, prepared: prepareBatch(layout, batch) };
}
type Setup = ReturnType<typeof setup>;

/** The loss followed by every gradient (trainableVariables() order), on the current TF.js backend. */
async function tfLossAndGradient({ layout, prepared }: Setup): Promise<Float64Array> {
  const tm = new TfSelectionModel(layout.model);
  const t = batchTensors(prepared, layout.model.features.length, tm.edgeCount);
  const { value, grads } = tf.variableGrads(
    () => tfLoss(BCE_SETTINGS, tm.forward(t.features, t.cutValues, 1), t.loss).total,
    tm.trainableVariables(),
  );
  const parts = [await value.data(), ...(await Promise.all(tm.trainableVariables().map((v) => grads[v.name].data())))];
  tf.dispose([value, ...Object.values(grads)]);
  disposeBatchTensors(t);
  tm.dispose();
  return Float64Array.from(parts.flatMap((p) => [...p]));
}

function fusedLossAndGradient({ layout, prepared }: Setup): Float64Array {
  const fm = new FusedSelectionModel(layout.model);
  const { total } = fm.lossAndGradient(BCE_SETTINGS, prepared, 1);
  return Float64Array.from([total, ...fm.gradient]);
}

/** The largest |a - b| / max(|b|, 1e-2): at most 1e-5 means "within 1e-5 relative, or 1e-7 absolute where smaller". */
function maxRelative(a: Float64Array, b: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-2));
  return worst;
}

/** Events per wall-second and per CPU-second of `steps` calls of `step`, after one to warm up. */
async function rate(n: number, step: () => Promise<unknown> | unknown): Promise<string> {
  await step();
  const [wall, cpu] = [performance.now(), process.cpuUsage()];
  for (let s = 0; s < steps; s++) await step();
  const seconds = (performance.now() - wall) / 1000;
  const used = process.cpuUsage(cpu);
  const k = (x: number) => `${((steps * n) / x / 1e3).toFixed(0)}k`;
  return `${k(seconds)} / ${k((used.user + used.system) / 1e6)}`;
}

/** Adam steps on the current TF.js backend, reading back the loss terms and gradient norm as training does. */
function tfSteps({ layout, prepared }: Setup): { step: () => Promise<void>; dispose: () => void } {
  const tm = new TfSelectionModel(layout.model);
  const optimizer: tf.Optimizer = tf.train.adam(0.001);
  const step = async () => {
    const t = batchTensors(prepared, layout.model.features.length, tm.edgeCount);
    const { value, grads } = tf.variableGrads(
      () => tfLoss(BCE_SETTINGS, tm.forward(t.features, t.cutValues, 1), t.loss).total,
      tm.trainableVariables(),
    );
    const norm = tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
    const [total, gradNorm] = [(await value.data())[0], (await norm.data())[0]];
    if (Number.isFinite(total + gradNorm)) optimizer.applyGradients(grads);
    tf.dispose([value, norm, ...Object.values(grads)]);
    disposeBatchTensors(t);
  };
  return { step, dispose: () => [tm.dispose(), optimizer.dispose()] };
}

const adapter = await startWebGpu(true);
console.log(
  adapter
    ? `webgpu: ${adapter.name}, Dawn backend ${adapter.dawnBackend}${adapter.software ? ' (software)' : ''}`
    : 'webgpu: did not start (the optional packages webgpu and @tensorflow/tfjs-backend-webgpu, and an adapter)',
);
console.log(
  'model batch | max rel diff webgpu-wasm, webgpu-fused, fused-wasm | events/s wall / CPU: webgpu | wasm | fused',
);
for (const [name, features, hidden] of [
  ['seed', 2, [15, 30, 15]],
  ['wide', 20, [64, 64]],
] as const) {
  for (const n of [4096, 16384]) {
    const s = setup(n, features, [...hidden]);
    await initBackend('wasm');
    const wasm = await tfLossAndGradient(s);
    const fused = fusedLossAndGradient(s);
    const wasmSteps = tfSteps(s);
    const wasmRate = await rate(n, wasmSteps.step);
    wasmSteps.dispose();
    const fm = new FusedSelectionModel(s.layout.model);
    const adam = new Adam(fm.params.length, 0.001);
    const fusedRate = await rate(n, () => {
      fm.lossAndGradient(BCE_SETTINGS, s.prepared, 1);
      adam.apply(fm.params, fm.gradient);
    });
    const diff = (a: Float64Array, b: Float64Array) => maxRelative(a, b).toExponential(1);
    let gpu = ['-, -', '-'];
    if (adapter) {
      await tf.setBackend('webgpu');
      const values = await tfLossAndGradient(s);
      const gpuSteps = tfSteps(s);
      gpu = [`${diff(values, wasm)}, ${diff(values, fused)}`, await rate(n, gpuSteps.step)];
      gpuSteps.dispose();
    }
    const row = [`${name} ${n}`, `${gpu[0]}, ${diff(fused, wasm)}`];
    console.log([...row, `${gpu[1]} | ${wasmRate} | ${fusedRate}`].join(' | '));
  }
}
process.exit(adapter ? 0 : 2);
