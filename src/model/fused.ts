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
  /** The parameters in float64 for the step: kernels [in][out] (backward) and transposed [out][in] (forward). */
  private readonly weights: Float64Array;
  private readonly transposed: Float64Array;
  /**
   * Activations (after ReLU) and their gradients of a chunk of CHUNK events, per layer,
   * [event][unit]; [0] the standardised input.
   */
  private readonly act: Float64Array[];
  private readonly dAct: Float64Array[];
  private logCut = new Float64Array(0);

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
    this.params = new Float32Array(at);
    this.gradient = new Float64Array(at);
    this.weights = new Float64Array(at);
    this.transposed = new Float64Array(at);
    this.act = this.sizes.map((s) => new Float64Array(CHUNK * s));
    this.dAct = this.sizes.map((s) => new Float64Array(CHUNK * s));
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
  lossAndGradient(
    s: LossSettings,
    b: PreparedBatch,
    multiplier: number,
  ): { total: number; main: number; size: number } {
    const n = b.n;
    const cuts = this.edgeCount > 0;
    const mlp = this.sizes.length > 0;
    if (this.logCut.length < n) this.logCut = new Float64Array(n);
    const { logCut, gradient } = this;
    gradient.fill(0);
    this.loadWeights();

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
        if (mlp && i % CHUNK === 0) this.mlpForward(b.features, i, Math.min(CHUNK, n - i));
        const logSig = mlp ? -softplus(-this.act[this.sizes.length - 1][i % CHUNK]) : 0;
        const wP = b.weight[i] * Math.exp(logCut[i] + logSig);
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
    const dLogit = mlp ? this.dAct[this.sizes.length - 1] : null;
    for (let i = 0; i < n; i++) {
      // Events go through the MLP in chunks; e is this one's slot.
      const e = i % CHUNK;
      const count = Math.min(CHUNK, n - i + e);
      // (Recomputed after pass 2: the backward pass reads the chunk's activations.)
      if (mlp && e === 0) this.mlpForward(b.features, i, count);
      const lc = logCut[i];
      const c = Math.exp(lc);
      const w = b.weight[i];
      const y = b.label[i];
      const z = mlp ? this.act[this.sizes.length - 1][e] : 0;
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
      if (dLogit) {
        dLogit[e] = gZ;
        if (e === count - 1) {
          // Padding slots (see mlpForward) carry no gradient.
          dLogit.fill(0, count, padded(count));
          this.mlpBackward(padded(count));
        }
      }
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

  /** Copies the float32 parameters into weights and transposed. */
  private loadWeights(): void {
    const { params, weights, transposed, sizes } = this;
    for (let i = 0; i < params.length; i++) weights[i] = params[i];
    transposed.set(weights);
    for (let l = 0; l + 1 < sizes.length; l++) {
      const [nIn, nOut, k0] = [sizes[l], sizes[l + 1], this.kernelAt[l]];
      for (let j = 0; j < nIn; j++)
        for (let o = 0; o < nOut; o++) transposed[k0 + o * nIn + j] = weights[k0 + j * nOut + o];
    }
  }

  /**
   * The MLP's outputs for events first.. first + count - 1, into act (every layer, [event][unit]).
   * Events go four at a time (each weight loaded once for four independent sums, which is what
   * makes the loop fast in V8); slots up to padded(count) hold zeros as inputs.
   */
  private mlpForward(features: Float32Array, first: number, count: number): void {
    const { transposed: wT, act, sizes, base } = this;
    const F = sizes[0];
    const x = act[0];
    for (let e = 0; e < count; e++) {
      for (let j = 0; j < F; j++) x[e * F + j] = (features[(first + e) * F + j] - base.inputMean[j]) / base.inputStd[j];
    }
    x.fill(0, count * F, padded(count) * F);
    const last = sizes.length - 2;
    for (let l = 0; l <= last; l++) {
      const nIn = sizes[l];
      const nOut = sizes[l + 1];
      const h = act[l];
      const out = act[l + 1];
      const k0 = this.kernelAt[l];
      const b0 = this.biasAt[l];
      // Two outputs of four events per loop: eight independent sums from six loads.
      for (let e = 0; e < count; e += 4) {
        const h0 = e * nIn;
        const h1 = h0 + nIn;
        const h2 = h1 + nIn;
        const h3 = h2 + nIn;
        for (let o = 0; o < nOut; o += 2) {
          // With an odd nOut the last pair repeats its first output.
          const p = o + 1 < nOut ? o + 1 : o;
          const rowA = k0 + o * nIn;
          const rowB = k0 + p * nIn;
          let u0 = wT[b0 + o];
          let u1 = u0;
          let u2 = u0;
          let u3 = u0;
          let v0 = wT[b0 + p];
          let v1 = v0;
          let v2 = v0;
          let v3 = v0;
          for (let j = 0; j < nIn; j++) {
            const wa = wT[rowA + j];
            const wb = wT[rowB + j];
            const x0 = h[h0 + j];
            const x1 = h[h1 + j];
            const x2 = h[h2 + j];
            const x3 = h[h3 + j];
            u0 += x0 * wa;
            u1 += x1 * wa;
            u2 += x2 * wa;
            u3 += x3 * wa;
            v0 += x0 * wb;
            v1 += x1 * wb;
            v2 += x2 * wb;
            v3 += x3 * wb;
          }
          const floor = l < last ? 0 : -Infinity;
          const at = e * nOut;
          out[at + o] = u0 > floor ? u0 : 0;
          out[at + nOut + o] = u1 > floor ? u1 : 0;
          out[at + 2 * nOut + o] = u2 > floor ? u2 : 0;
          out[at + 3 * nOut + o] = u3 > floor ? u3 : 0;
          out[at + p] = v0 > floor ? v0 : 0;
          out[at + nOut + p] = v1 > floor ? v1 : 0;
          out[at + 2 * nOut + p] = v2 > floor ? v2 : 0;
          out[at + 3 * nOut + p] = v3 > floor ? v3 : 0;
        }
      }
    }
  }

  /**
   * Backward of the chunk's `count` slots (a multiple of 4), from d total / d logit in dAct's
   * last layer, into the gradient.
   */
  private mlpBackward(count: number): void {
    const { weights: w, act, dAct, sizes, gradient } = this;
    for (let l = sizes.length - 2; l >= 0; l--) {
      const nIn = sizes[l];
      const nOut = sizes[l + 1];
      const h = act[l];
      const d = dAct[l + 1];
      const dh = dAct[l];
      const k0 = this.kernelAt[l];
      const b0 = this.biasAt[l];
      for (let o = 0; o < nOut; o++) {
        let sum = 0;
        for (let e = 0; e < count; e++) sum += d[e * nOut + o];
        gradient[b0 + o] += sum;
      }
      // Four events at a time, one loop over o for both d kernel[j][o] += sum_e h[e][j] d[e][o]
      // and d h[e][j] = sum_o kernel[j][o] d[e][o] (each d loaded once for both). A unit that
      // the ReLU below zeroed for all four events gives neither.
      for (let e = 0; e < count; e += 4) {
        const h0 = e * nIn;
        const d0 = e * nOut;
        const d1 = d0 + nOut;
        const d2 = d1 + nOut;
        const d3 = d2 + nOut;
        for (let j = 0; j < nIn; j++) {
          const a0 = h[h0 + j];
          const a1 = h[h0 + nIn + j];
          const a2 = h[h0 + 2 * nIn + j];
          const a3 = h[h0 + 3 * nIn + j];
          let s0 = 0;
          let s1 = 0;
          let s2 = 0;
          let s3 = 0;
          if (a0 !== 0 || a1 !== 0 || a2 !== 0 || a3 !== 0) {
            const row = k0 + j * nOut;
            for (let o = 0; o < nOut; o++) {
              const x0 = d[d0 + o];
              const x1 = d[d1 + o];
              const x2 = d[d2 + o];
              const x3 = d[d3 + o];
              gradient[row + o] += a0 * x0 + a1 * x1 + a2 * x2 + a3 * x3;
              const wo = w[row + o];
              s0 += wo * x0;
              s1 += wo * x1;
              s2 += wo * x2;
              s3 += wo * x3;
            }
          }
          // Through the ReLU below (its output is 0 where its input was not positive); the
          // standardised inputs (l = 0) need no gradient.
          dh[h0 + j] = a0 > 0 ? s0 : 0;
          dh[h0 + nIn + j] = a1 > 0 ? s1 : 0;
          dh[h0 + 2 * nIn + j] = a2 > 0 ? s2 : 0;
          dh[h0 + 3 * nIn + j] = a3 > 0 ? s3 : 0;
        }
      }
    }
  }
}

/** count rounded up to a multiple of 4 (the MLP loops' step). */
function padded(count: number): number {
  return (count + 3) & ~3;
}

/** Events per chunk through the MLP (a multiple of 4): a chunk's activations stay in L1/L2. */
const CHUNK = 128;

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
