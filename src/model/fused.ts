import { CHUNK, type DenseSimd, denseSimd } from './denseSimd.js';
import type { PreparedBatch } from './preparedBatch.js';
import {
  cutEdges,
  erf,
  ERF_TAIL,
  LOG_2_SQRT_PI,
  LOG_FLOOR,
  logErfcTail,
  softplus,
  withEdgeThresholds,
} from './cuts.js';
import { isSignificance, type LossSettings, sizeSlope, sizeTerm } from './losses.js';
import { hasCuts, hasMlp, type SelectionModel } from './model.js';

/**
 * The loss and its gradient for every model of the cuts x MLP family in one pass of plain
 * typed-array loops: the same function tfModel.ts and losses.ts' tfLoss build op by op in
 * TF.js, without the per-op dispatch (each event's forward and backward run while its numbers
 * are in registers and L1). The MLP's dense layers run in float32 SIMD (denseSimd.ts, as TF.js
 * computes), chunk by chunk, each chunk's gradient added to the float64 total; the cuts and the
 * loss are float64. The parameters are float32, as TF.js keeps them, in one flat array laid out
 * as TfSelectionModel.trainableVariables(): the thresholds (in standardised units), then the
 * kernels, then the biases.
 *
 * Three passes over the batch: the cut factors (their sum sets the size term's slope); for the
 * significance losses, the MLP forward (their gradient needs the batch's s and b first); then
 * per event the forward pass, d loss / d logCut and d loss / d logit, and the backward pass.
 * Passes 1-2 (batchSums) and 3 (eventGradient) run over a range of events, so that slices of a
 * batch can run on several threads (training/threadedStepper.ts), their sums added between.
 */
export class FusedSelectionModel {
  /** Every parameter, float32, in TfSelectionModel.trainableVariables() order. */
  readonly params: Float32Array;
  /** d loss / d params of the last lossAndGradient(). */
  readonly gradient: Float64Array;
  /** Offsets of each layer's kernel and bias in params. */
  private readonly kernelAt: number[] = [];
  private readonly biasAt: number[] = [];
  private readonly sizes: number[];
  private readonly edgeMean: Float64Array;
  private readonly edgeStd: Float64Array;
  private readonly edgeGain: Float64Array;
  private readonly edgeErf: Uint8Array;
  /**
   * The WebAssembly memory of the dense layers (denseSimd.ts): params at 0, then the gradient
   * of one chunk, then per layer a chunk's activations (after ReLU; [0] the standardised input)
   * and their gradients, [unit][event] with a row stride of CHUNK events.
   */
  private readonly simd: DenseSimd;
  private readonly chunkGradient: Float32Array;
  private readonly gradientAt: number;
  private readonly actAt: number[] = [];
  private readonly dActAt: number[] = [];
  private readonly act: Float32Array[];
  private readonly dAct: Float32Array[];
  private logCut = new Float64Array(0);
  /** exp(logCut) per event, from pass 1. */
  private cut = new Float64Array(0);
  /** d log w_k / d a_k per event and edge, [event][edge], from pass 1 for the backward pass. */
  private edgeSlope = new Float64Array(0);

  constructor(private readonly base: SelectionModel) {
    // Object cuts (soft counts, fixed thresholds) train on TF.js only (training/backend.ts' tfOnly).
    if (base.cuts.some((c) => c.object || c.fixed))
      throw new Error('the fused kernel has no object cuts (soft counts): train them on TF.js');
    const edges = hasCuts(base) ? cutEdges(base.cuts) : [];
    this.edgeMean = Float64Array.from(edges, (e) => e.mean);
    this.edgeStd = Float64Array.from(edges, (e) => e.std);
    this.edgeGain = Float64Array.from(edges, (e) => e.sign * e.slope * e.std);
    this.edgeErf = Uint8Array.from(edges, (e) => (e.form === 'erf' ? 1 : 0));
    this.sizes = hasMlp(base) ? [base.features.length, ...base.hidden, 1] : [];
    let at = edges.length;
    for (const layer of base.layers) {
      this.kernelAt.push(at);
      at += layer.inputs * layer.outputs;
    }
    for (const layer of base.layers) {
      this.biasAt.push(at);
      at += layer.outputs;
    }
    // Every region 16-byte aligned.
    const bytes = (floats: number) => (floats * 4 + 15) & ~15;
    this.gradientAt = bytes(at);
    let end = this.gradientAt + bytes(at);
    for (const list of [this.actAt, this.dActAt])
      for (const units of this.sizes) {
        list.push(end);
        end += bytes(units * CHUNK);
      }
    const memory = new WebAssembly.Memory({ initial: Math.ceil(end / 65536) || 1 });
    this.simd = denseSimd(memory);
    this.params = new Float32Array(memory.buffer, 0, at);
    this.chunkGradient = new Float32Array(memory.buffer, this.gradientAt, at);
    this.gradient = new Float64Array(at);
    this.act = this.sizes.map((units, l) => new Float32Array(memory.buffer, this.actAt[l], units * CHUNK));
    this.dAct = this.sizes.map((units, l) => new Float32Array(memory.buffer, this.dActAt[l], units * CHUNK));
    this.restore(base);
  }

  get edgeCount(): number {
    return this.edgeMean.length;
  }

  /** The parameters as tensors by TfSelectionModel.trainableVariables() position (views into params). */
  tensors(): Float32Array[] {
    const E = this.edgeCount;
    const views = E > 0 ? [this.params.subarray(0, E)] : [];
    this.base.layers.forEach((l, i) =>
      views.push(this.params.subarray(this.kernelAt[i], this.kernelAt[i] + l.inputs * l.outputs)),
    );
    this.base.layers.forEach((l, i) => views.push(this.params.subarray(this.biasAt[i], this.biasAt[i] + l.outputs)));
    return views;
  }

  /** Sets the parameters from a plain model of the same architecture. */
  restore(model: SelectionModel): void {
    cutEdges(hasCuts(model) ? model.cuts : []).forEach(
      (e, k) => (this.params[k] = (e.threshold - this.edgeMean[k]) / this.edgeStd[k]),
    );
    model.layers.forEach((l, i) => {
      this.params.set(l.kernel, this.kernelAt[i]);
      this.params.set(l.bias, this.biasAt[i]);
    });
  }

  /** The current parameters as a plain model. */
  snapshot(slopeMultiplier: number, backend: string): SelectionModel {
    const E = this.edgeCount;
    const thresholds = Array.from({ length: E }, (_, k) => this.edgeMean[k] + this.edgeStd[k] * this.params[k]);
    const cuts = E > 0 ? withEdgeThresholds(this.base.cuts, thresholds) : this.base.cuts;
    const layers = this.base.layers.map((l, i) => ({
      ...l,
      kernel: this.params.slice(this.kernelAt[i], this.kernelAt[i] + l.inputs * l.outputs),
      bias: this.params.slice(this.biasAt[i], this.biasAt[i] + l.outputs),
    }));
    return { ...this.base, cuts, layers, slopeMultiplier, backend };
  }

  /** The loss terms of a batch, with d total / d params left in `gradient`. */
  lossAndGradient(s: LossSettings, b: PreparedBatch, multiplier: number): LossTerms {
    const terms = batchTerms(s, b, this.batchSums(s, b, 0, b.n, multiplier), this.edgeCount > 0);
    const main = terms.main + this.eventGradient(s, b, 0, b.n, multiplier, terms);
    return { total: main + terms.size, main, size: terms.size, kept: terms.kept };
  }

  /**
   * Passes 1 and 2 over events from..to - 1: the sums the batch-wide terms are made of (see
   * batchTerms). Keeps each event's cut factor for eventGradient.
   */
  batchSums(s: LossSettings, b: PreparedBatch, from: number, to: number, multiplier: number): BatchSums {
    const mlp = this.sizes.length > 0;
    if (this.logCut.length < b.n) [this.logCut, this.cut] = [new Float64Array(b.n), new Float64Array(b.n)];
    if (this.edgeSlope.length < b.n * this.edgeCount) this.edgeSlope = new Float64Array(b.n * this.edgeCount);
    const { logCut, cut } = this;
    // Pass 1: log prod w_k per event, and the bytes kept.
    let kept = 0;
    logCut.fill(0, from, to);
    for (let k = 0; k < this.edgeCount; k++) this.cutForward(b.cutValues, k, from, to, multiplier);
    for (let i = from; i < to; i++) {
      cut[i] = Math.exp(logCut[i]);
      if (b.keptBytes[i] !== 0) kept += cut[i] * b.keptBytes[i];
    }
    // Pass 2 (significance only): s and b.
    let sig = 0;
    let bkg = 0;
    if (isSignificance(s.kind)) {
      for (let i = from; i < to; i++) {
        const e = (i - from) % CHUNK;
        if (mlp && e === 0) this.mlpForward(b.features, i, Math.min(CHUNK, to - i));
        const logSig = mlp ? -softplus(-this.act[this.sizes.length - 1][e]) : 0;
        const wP = b.weight[i] * Math.exp(logCut[i] + logSig);
        if (b.label[i]) sig += wP;
        else bkg += wP;
      }
    }
    return { kept, sig, bkg };
  }

  /**
   * Pass 3 over events from..to - 1 (after batchSums over the same events): per event d total /
   * d logCut and d total / d logit, then backward; their gradient is left in `gradient`, their
   * part of the main loss returned (bce, mse, signal-efficiency; the significances' is batchTerms').
   */
  eventGradient(s: LossSettings, b: PreparedBatch, from: number, to: number, multiplier: number, t: Slopes): number {
    const cuts = this.edgeCount > 0;
    const mlp = this.sizes.length > 0;
    const { logCut, cut, gradient } = this;
    const { dKept, dSig, dBkg } = t;
    gradient.fill(0);
    let main = 0;
    const W = Math.max(b.sumWeight, 1e-30);
    const sumSignal = Math.max(b.sumSignalWeight, 1e-30);
    const dLogit = mlp ? this.dAct[this.sizes.length - 1] : null;
    for (let i = from; i < to; i++) {
      // Events go through the MLP in chunks; e is this one's slot.
      const e = (i - from) % CHUNK;
      const count = Math.min(CHUNK, to - i + e);
      // (Recomputed after pass 2: the backward pass reads the chunk's activations.)
      if (mlp && e === 0) this.mlpForward(b.features, i, count);
      const lc = logCut[i];
      const c = cut[i];
      const w = b.weight[i];
      const y = b.label[i];
      const z = mlp ? this.act[this.sizes.length - 1][e] : 0;
      // softplus(-z) and sigmoid(z) from one exp; softplus(z) = softplus(-z) + z.
      const t = mlp ? Math.exp(-Math.abs(z)) : 0;
      const spMinus = mlp ? (z < 0 ? -z : 0) + Math.log1p(t) : 0;
      const logSig = -spMinus;
      const sg = mlp ? (z >= 0 ? 1 : t) / (1 + t) : 1;
      const logP = lc + logSig;
      let gLc = dKept * c * b.keptBytes[i];
      let gZ = 0;
      if (w !== 0) {
        if (s.kind === 'bce') {
          let log1mP: number;
          let dLc: number;
          let dZ = 0;
          if (!cuts) {
            log1mP = -(spMinus + z);
            dLc = 0;
            dZ = -sg;
          } else {
            const oneMinusC = -Math.expm1(lc);
            const floored = oneMinusC < LOG_FLOOR;
            const a = floored ? LOG_FLOOR : oneMinusC;
            if (!mlp) [log1mP, dLc] = [Math.log(a), floored ? 0 : -c / oneMinusC];
            else {
              // 1 - P = (1 - c) + c sigmoid(-z): two terms >= 0, so one log of their sum is
              // logaddexp(L1, L2), L1 = log(1 - c) (floored), L2 = log c + log sigmoid(-z).
              const b2 = c * ((z >= 0 ? t : 1) / (1 + t));
              const sum = a + b2;
              log1mP = Math.log(sum);
              dLc = ((floored ? 0 : -c) + b2) / sum;
              dZ = (-b2 / sum) * sg;
            }
          }
          main -= (w * (y * logP + (1 - y) * log1mP)) / W;
          gLc -= (w / W) * (y + (1 - y) * dLc);
          gZ -= (w / W) * (y * (1 - sg) + (1 - y) * dZ);
        } else {
          // d main / d P per event; dP / dlogCut = P, dP / dlogit = P (1 - sigmoid).
          const p = Math.exp(logP);
          let dP: number;
          if (s.kind === 'mse') {
            main += (w * (p - y) * (p - y)) / W;
            dP = (2 * w * (p - y)) / W;
          } else if (s.kind === 'signal-efficiency') {
            main -= (w * p * y) / sumSignal;
            dP = (-w * y) / sumSignal;
          } else dP = w * (y ? dSig : dBkg);
          gLc += dP * p;
          gZ += dP * p * (1 - sg);
        }
      }
      if (cuts && gLc !== 0) this.cutBackward(i, multiplier, gLc);
      if (dLogit) {
        dLogit[e] = gZ;
        if (e === count - 1) {
          // Padding slots (see mlpForward) carry no gradient.
          dLogit.fill(0, count, padded(count));
          this.mlpBackward(padded(count));
          for (let k = this.edgeCount; k < gradient.length; k++) gradient[k] += this.chunkGradient[k];
        }
      }
    }
    return main;
  }

  /**
   * Adds log w_k of edge k to logCut for events from..to - 1 (edge by edge, so each event's sum
   * runs over k in order); its slope d log w_k / d a_k into edgeSlope.
   */
  private cutForward(values: Float32Array, k: number, from: number, to: number, multiplier: number): void {
    const { edgeCount: E, edgeSlope, logCut } = this;
    const [mean, std, u, gain] = [this.edgeMean[k], this.edgeStd[k], this.params[k], this.edgeGain[k] * multiplier];
    const erfForm = this.edgeErf[k] === 1;
    for (let i = from; i < to; i++) {
      const a = ((values[i * E + k] - mean) / std - u) * gain;
      if (erfForm) {
        logCut[i] += logErfStep(a);
        edgeSlope[i * E + k] = logErfStepSlope(a);
      } else {
        // log sigmoid(a) = -softplus(-a), slope sigmoid(-a): one exp for both.
        const t = Math.exp(-Math.abs(a));
        logCut[i] -= a < 0 ? Math.log1p(t) - a : Math.log1p(t);
        edgeSlope[i * E + k] = a > 0 ? t / (1 + t) : 1 / (1 + t);
      }
    }
  }

  /** Adds g * d logCut / d u_k of event i to the threshold gradients. */
  private cutBackward(i: number, multiplier: number, g: number): void {
    const { edgeCount: E, edgeSlope, edgeGain, gradient } = this;
    for (let k = 0; k < E; k++) gradient[k] -= g * edgeSlope[i * E + k] * edgeGain[k] * multiplier;
  }

  /**
   * The MLP's outputs for events first.. first + count - 1, into act (every layer); slots up to
   * padded(count) hold zeros as inputs.
   */
  private mlpForward(features: Float32Array, first: number, count: number): void {
    const { act, sizes, base, simd } = this;
    const F = sizes[0];
    const x = act[0];
    for (let j = 0; j < F; j++) {
      const [mean, std] = [base.inputMean[j], base.inputStd[j]];
      for (let e = 0; e < count; e++) x[j * CHUNK + e] = (features[(first + e) * F + j] - mean) / std;
      x.fill(0, j * CHUNK + count, j * CHUNK + padded(count));
    }
    const last = sizes.length - 2;
    for (let l = 0; l <= last; l++) {
      const [kernel, bias] = [this.kernelAt[l] * 4, this.biasAt[l] * 4];
      simd.dense(
        kernel,
        bias,
        this.actAt[l],
        this.actAt[l + 1],
        sizes[l],
        sizes[l + 1],
        padded(count),
        l < last ? 0 : -Infinity,
      );
    }
  }

  /**
   * Backward of the chunk's `count` slots (a multiple of 16), from d total / d logit in dAct's
   * last layer, into chunkGradient's kernels and biases.
   */
  private mlpBackward(count: number): void {
    const { sizes, simd, gradientAt } = this;
    for (let l = sizes.length - 2; l >= 0; l--) {
      const [kernel, bias] = [this.kernelAt[l] * 4, this.biasAt[l] * 4];
      const [nIn, nOut] = [sizes[l], sizes[l + 1]];
      simd.grad(this.actAt[l], this.dActAt[l + 1], gradientAt + kernel, gradientAt + bias, nIn, nOut, count);
      // The standardised inputs (l = 0) need no gradient.
      if (l > 0) simd.back(kernel, this.actAt[l], this.dActAt[l + 1], this.dActAt[l], nIn, nOut, count);
    }
  }
}

export interface LossTerms {
  total: number;
  main: number;
  size: number;
  /** The batch's soft kept fraction (what the size term counts). */
  kept: number;
}

/** What batchSums adds up: sum of cut factor x bytes kept, and s and b (significance losses). */
export interface BatchSums {
  kept: number;
  sig: number;
  bkg: number;
}

/** Batch-wide slopes of the loss: d size / d (cut factor x bytes), d main / d (w P) per class. */
export interface Slopes {
  dKept: number;
  dSig: number;
  dBkg: number;
}

/**
 * The batch-wide terms from the batch's sums (batchSums over all its events, or its slices'
 * added up): the size term, the significances' main loss, and the slopes eventGradient needs.
 */
export function batchTerms(
  s: LossSettings,
  b: PreparedBatch,
  sums: BatchSums,
  cuts: boolean,
): Slopes & { size: number; main: number; kept: number } {
  const kept = sums.kept / b.sumBytes;
  const size = sizeTerm(s, kept);
  const dKept = cuts ? sizeSlope(s, kept) / b.sumBytes : 0;
  if (!isSignificance(s.kind)) return { size, kept, dKept, main: 0, dSig: 0, dBkg: 0 };
  const sigScale = s.signalYield / Math.max(b.sumSignalWeight, 1e-30);
  const bkgScale = s.backgroundYield / Math.max(b.sumBackgroundWeight, 1e-30);
  const z = significanceAndSlopes(s, sums.sig * sigScale, sums.bkg * bkgScale);
  return { size, kept, dKept, main: -z.value, dSig: -z.dSig * sigScale, dBkg: -z.dBkg * bkgScale };
}

/** count rounded up to a multiple of 16 (the dense layers' step). */
function padded(count: number): number {
  return (count + 15) & ~15;
}
/** log((1 + erf(a)) / 2), as tfModel.ts' logErfStep (and cuts.ts' logStep) compute it. */
function logErfStep(a: number): number {
  if (a < -ERF_TAIL) return logErfcTail(-a);
  if (a < ERF_TAIL) return Math.log(Math.min(Math.max(0.5 * (1 + erf(a)), LOG_FLOOR), 1));
  return Math.log1p(-Math.exp(logErfcTail(a)));
}

/**
 * d logErfStep / da. As in TF.js, the middle uses erf's exact derivative 2/sqrt(pi) exp(-a²)
 * over the approximated (1 + erf(a)), and the tails the derivative of the series.
 */
function logErfStepSlope(a: number): number {
  if (a < -ERF_TAIL) return -logErfcTailSlope(-a);
  if (a < ERF_TAIL) {
    const w = 0.5 * (1 + erf(a));
    return w < LOG_FLOOR || w > 1 ? 0 : (Math.exp(-a * a - LOG_2_SQRT_PI) * 2) / w;
  }
  const t = Math.exp(logErfcTail(a));
  return (-t * logErfcTailSlope(a)) / (1 - t);
}

/** d logErfcTail / dz. */
function logErfcTailSlope(z: number): number {
  const u = 1 / (z * z);
  const q = u * (-0.5 + u * (0.75 - 1.875 * u));
  const dq = -0.5 + u * (1.5 - 5.625 * u);
  return -2 * z - 1 / z + (dq * ((-2 * u) / z)) / (1 + q);
}

/** losses.ts' significance() and its derivatives in s and b. */
function significanceAndSlopes(
  s: LossSettings,
  sig: number,
  bkg: number,
): { value: number; dSig: number; dBkg: number } {
  const eps = 1e-3 * s.backgroundYield;
  if (s.kind === 's-over-sqrt-b') {
    const q = bkg + (s.sigmaB * bkg) ** 2 + eps;
    const r = Math.sqrt(q);
    return { value: sig / r, dSig: 1 / r, dBkg: (-0.5 * sig * (1 + 2 * s.sigmaB ** 2 * bkg)) / (q * r) };
  }
  const b = bkg + eps;
  const sb = sig + b;
  let z2: number;
  let dS: number;
  let dB: number;
  if (s.sigmaB === 0) {
    const l = Math.log1p(sig / b);
    z2 = 2 * (sb * l - sig);
    [dS, dB] = [2 * l, 2 * (l - sig / b)];
  } else {
    // With v = k b² (k = sigmaB²): z2 / 2 = sb log(A / B) - log1p(C) / k, A = sb (b + v),
    // B = b² + sb v, C = k s / (1 + k b).
    const k = s.sigmaB ** 2;
    const v = k * b * b;
    const [A, B] = [sb * (b + v), b * b + sb * v];
    const C = (k * sig) / (1 + k * b);
    const logAB = Math.log(A / B);
    z2 = 2 * (sb * logAB - Math.log1p(C) / k);
    const dAdb = b + v + sb * (1 + 2 * k * b);
    const dBdb = 2 * b + v + 2 * sb * k * b;
    dS = 2 * (logAB + sb * ((b + v) / A - v / B) - 1 / ((1 + k * b) * (1 + C)));
    dB = 2 * (logAB + sb * (dAdb / A - dBdb / B) + (k * sig) / ((1 + k * b) ** 2 * (1 + C)));
  }
  if (z2 <= 1e-12) return { value: Math.sqrt(1e-12), dSig: 0, dBkg: 0 };
  const value = Math.sqrt(z2);
  return { value, dSig: dS / (2 * value), dBkg: dB / (2 * value) };
}
