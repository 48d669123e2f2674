import type { PreparedBatch } from '../training/prepare.js';
import { cutEdges, erf, ERF_TAIL, LOG_2_SQRT_PI, LOG_FLOOR, logErfcTail, softplus, withEdgeThresholds } from './cuts.js';
import { isSignificance, type LossSettings } from './losses.js';
import { hasCuts, hasMlp, type SelectionModel } from './model.js';

/**
 * The loss and its gradient for every model of the cuts x MLP family in one pass of plain
 * typed-array loops: the same function tfModel.ts and losses.ts' tfLoss build op by op in
 * TF.js, without the per-op dispatch (each event's forward and backward run while its numbers
 * are in registers and L1). Arithmetic is float64; the parameters are float32, as TF.js keeps
 * them, in one flat array laid out as TfSelectionModel.trainableVariables(): the thresholds
 * (in standardised units), then the kernels, then the biases.
 *
 * Three passes over the batch: the cut factors (their sum sets the size term's slope); for the
 * significance losses, the MLP forward (their gradient needs the batch's s and b first); then
 * per event the forward pass, d loss / d logCut and d loss / d logit, and the backward pass.
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
  /** Activations (after ReLU) and their gradients of one event, per layer; [0] the standardised input. */
  private readonly act: Float64Array[];
  private readonly dAct: Float64Array[];
  private logCut = new Float64Array(0);
  private logit = new Float64Array(0);

  constructor(private readonly base: SelectionModel) {
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
    this.params = new Float32Array(at);
    this.gradient = new Float64Array(at);
    this.act = this.sizes.map((s) => new Float64Array(s));
    this.dAct = this.sizes.map((s) => new Float64Array(s));
    this.restore(base);
  }

  get edgeCount(): number {
    return this.edgeMean.length;
  }

  /** The parameters as tensors by TfSelectionModel.trainableVariables() position (views into params). */
  tensors(): Float32Array[] {
    const E = this.edgeCount;
    const views = E > 0 ? [this.params.subarray(0, E)] : [];
    this.base.layers.forEach((l, i) => views.push(this.params.subarray(this.kernelAt[i], this.kernelAt[i] + l.inputs * l.outputs)));
    this.base.layers.forEach((l, i) => views.push(this.params.subarray(this.biasAt[i], this.biasAt[i] + l.outputs)));
    return views;
  }

  /** Sets the parameters from a plain model of the same architecture. */
  restore(model: SelectionModel): void {
    cutEdges(hasCuts(model) ? model.cuts : []).forEach((e, k) => (this.params[k] = (e.threshold - this.edgeMean[k]) / this.edgeStd[k]));
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
  lossAndGradient(s: LossSettings, b: PreparedBatch, multiplier: number): { total: number; main: number; size: number } {
    const n = b.n;
    const cuts = this.edgeCount > 0;
    const mlp = this.sizes.length > 0;
    if (this.logCut.length < n) [this.logCut, this.logit] = [new Float64Array(n), new Float64Array(n)];
    const { logCut, logit, gradient } = this;
    gradient.fill(0);

    // Pass 1: log prod w_k per event, and the size term.
    let keptSum = 0;
    for (let i = 0; i < n; i++) {
      logCut[i] = cuts ? this.cutForward(b.cutValues, i, multiplier) : 0;
      if (b.keptBytes[i] !== 0) keptSum += Math.exp(logCut[i]) * b.keptBytes[i];
    }
    if (!cuts) keptSum = b.keptBytes.reduce((a, x) => a + x, 0);
    const kept = keptSum / b.sumBytes;
    const over = s.target === null ? 0 : Math.max(0, kept - s.target);
    const size = s.target === null ? s.lambda * kept : s.lambda * over * over;
    const dKept = cuts ? (s.target === null ? s.lambda : 2 * s.lambda * over) / b.sumBytes : 0;

    // Pass 2 (significance only): s and b of the batch, and d main / d (w P) per class.
    let main = 0;
    let dSig = 0;
    let dBkg = 0;
    if (isSignificance(s.kind)) {
      let sig = 0;
      let bkg = 0;
      for (let i = 0; i < n; i++) {
        if (mlp) logit[i] = this.mlpForward(b.features, i);
        const wP = b.weight[i] * Math.exp(logCut[i] - (mlp ? softplus(-logit[i]) : 0));
        if (b.label[i]) sig += wP;
        else bkg += wP;
      }
      const sigScale = s.signalYield / Math.max(b.sumSignalWeight, 1e-30);
      const bkgScale = s.backgroundYield / Math.max(b.sumBackgroundWeight, 1e-30);
      const z = significanceAndSlopes(s, sig * sigScale, bkg * bkgScale);
      main = -z.value;
      dSig = -z.dSig * sigScale;
      dBkg = -z.dBkg * bkgScale;
    }

    // Pass 3: per event, d total / d logCut and d total / d logit, then backward.
    const W = Math.max(b.sumWeight, 1e-30);
    const sumSignal = Math.max(b.sumSignalWeight, 1e-30);
    for (let i = 0; i < n; i++) {
      const lc = logCut[i];
      const c = Math.exp(lc);
      const w = b.weight[i];
      const y = b.label[i];
      // (Recomputed after pass 2: the backward pass reads this event's activations.)
      const z = mlp ? this.mlpForward(b.features, i) : 0;
      const logSig = mlp ? -softplus(-z) : 0;
      const sg = mlp ? Math.exp(logSig) : 1;
      const logP = lc + logSig;
      let gLc = dKept * c * b.keptBytes[i];
      let gZ = 0;
      if (w !== 0) {
        if (s.kind === 'bce') {
          // log(1 - P) = logaddexp(L1, L2), L1 = log(1 - c) (floored), L2 = log c + log sigmoid(-z).
          let log1mP: number;
          let dLc: number;
          let dZ = 0;
          if (!cuts) {
            log1mP = -softplus(z);
            dLc = 0;
            dZ = -sg;
          } else {
            const oneMinusC = -Math.expm1(lc);
            const l1 = Math.log(Math.max(oneMinusC, LOG_FLOOR));
            const dL1 = oneMinusC >= LOG_FLOOR ? -c / oneMinusC : 0;
            if (!mlp) [log1mP, dLc] = [l1, dL1];
            else {
              const l2 = lc - softplus(z);
              const m = Math.max(l1, l2);
              const [e1, e2] = [Math.exp(l1 - m), Math.exp(l2 - m)];
              log1mP = m + Math.log(e1 + e2);
              const [p1, p2] = [e1 / (e1 + e2), e2 / (e1 + e2)];
              dLc = p1 * dL1 + p2;
              dZ = -p2 * sg;
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
      if (cuts && gLc !== 0) this.cutBackward(b.cutValues, i, multiplier, gLc);
      if (mlp && gZ !== 0) this.mlpBackward(gZ);
    }
    return { total: main + size, main, size };
  }

  /** log prod_k w_k of event i. */
  private cutForward(values: Float32Array, i: number, multiplier: number): number {
    const E = this.edgeCount;
    let sum = 0;
    for (let k = 0; k < E; k++) {
      const a = this.edgeArgument(values[i * E + k], k, multiplier);
      sum += this.edgeErf[k] ? logErfStep(a) : -softplus(-a);
    }
    return sum;
  }

  /** Adds g * d logCut / d u_k of event i to the threshold gradients. */
  private cutBackward(values: Float32Array, i: number, multiplier: number, g: number): void {
    const E = this.edgeCount;
    for (let k = 0; k < E; k++) {
      const a = this.edgeArgument(values[i * E + k], k, multiplier);
      const slope = this.edgeErf[k] ? logErfStepSlope(a) : 1 / (1 + Math.exp(a));
      this.gradient[k] -= g * slope * this.edgeGain[k] * multiplier;
    }
  }

  private edgeArgument(x: number, k: number, multiplier: number): number {
    return ((x - this.edgeMean[k]) / this.edgeStd[k] - this.params[k]) * (this.edgeGain[k] * multiplier);
  }

  /** The MLP's output for event i; leaves every layer's activations in act. */
  private mlpForward(features: Float32Array, i: number): number {
    const { params, act, sizes, base } = this;
    const F = sizes[0];
    const x = act[0];
    for (let j = 0; j < F; j++) x[j] = (features[i * F + j] - base.inputMean[j]) / base.inputStd[j];
    const last = sizes.length - 2;
    for (let l = 0; l <= last; l++) {
      const [nIn, nOut] = [sizes[l], sizes[l + 1]];
      const [h, out] = [act[l], act[l + 1]];
      const [k0, b0] = [this.kernelAt[l], this.biasAt[l]];
      for (let o = 0; o < nOut; o++) out[o] = params[b0 + o];
      for (let j = 0; j < nIn; j++) {
        const hj = h[j];
        if (hj === 0) continue;
        const row = k0 + j * nOut;
        for (let o = 0; o < nOut; o++) out[o] += hj * params[row + o];
      }
      if (l < last) for (let o = 0; o < nOut; o++) if (out[o] < 0) out[o] = 0;
    }
    return act[last + 1][0];
  }

  /** Backward of the last mlpForward with d total / d logit = g, into the gradient. */
  private mlpBackward(g: number): void {
    const { params, act, dAct, sizes, gradient } = this;
    const last = sizes.length - 2;
    dAct[last + 1][0] = g;
    for (let l = last; l >= 0; l--) {
      const [nIn, nOut] = [sizes[l], sizes[l + 1]];
      const [h, d, dh] = [act[l], dAct[l + 1], dAct[l]];
      const [k0, b0] = [this.kernelAt[l], this.biasAt[l]];
      for (let o = 0; o < nOut; o++) gradient[b0 + o] += d[o];
      for (let j = 0; j < nIn; j++) {
        const hj = h[j];
        const row = k0 + j * nOut;
        let back = 0;
        for (let o = 0; o < nOut; o++) {
          gradient[row + o] += hj * d[o];
          back += params[row + o] * d[o];
        }
        // Through the ReLU below (its output is 0 where its input was not positive).
        dh[j] = l > 0 && hj <= 0 ? 0 : back;
      }
    }
  }
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
    return w < LOG_FLOOR || w > 1 ? 0 : Math.exp(-a * a - LOG_2_SQRT_PI) * 2 / w;
  }
  const t = Math.exp(logErfcTail(a));
  return (-t * logErfcTailSlope(a)) / (1 - t);
}

/** d logErfcTail / dz. */
function logErfcTailSlope(z: number): number {
  const u = 1 / (z * z);
  const q = u * (-0.5 + u * (0.75 - 1.875 * u));
  const dq = -0.5 + u * (1.5 - 5.625 * u);
  return -2 * z - 1 / z + (dq * (-2 * u / z)) / (1 + q);
}

/** losses.ts' significance() and its derivatives in s and b. */
function significanceAndSlopes(s: LossSettings, sig: number, bkg: number): { value: number; dSig: number; dBkg: number } {
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
