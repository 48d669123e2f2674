import * as tf from '@tensorflow/tfjs-core';
import { LOG_FLOOR, softplus } from './cuts.js';
import { logAddExp, logSigmoid } from './tfGradients.js';
import type { ForwardOutput } from './tfModel.js';

/**
 * Losses, in TF.js (for gradients) and in plain JS (float64, for validation and for checking
 * the gradients). Both read the model output through logCut = log prod_k w_k and the MLP logit,
 * with P = exp(logCut) * sigmoid(logit).
 *
 * Classification term, weighted by event weight (times class balance):
 *   bce   -sum w [y log P + (1-y) log(1-P)] / sum w    (log P computed in the log domain, so a
 *         signal event far outside a cut still pulls the cut back with a constant gradient)
 *   mse   sum w (P - y)^2 / sum w
 *   s-over-sqrt-b   -s / sqrt(b + (sigmaB b)^2 + eps)
 *   asimov          -Z_A(s, b + eps), with Cowan's formula when sigmaB > 0 (relative error on b)
 *   signal-efficiency   -sum_sig(w P) / sum_sig(w): with a target on the background kept
 *         fraction (size.over 'background') this is the Neyman-Pearson problem "most signal at a
 *         given background rate"
 * where s = S sum_sig(w P) / sum_sig(w), b = B sum_bkg(w P) / sum_bkg(w), S and B the expected
 * yields, and eps = 1e-3 B keeps both finite as the selection empties (s/sqrt(b) would otherwise
 * reward keeping a handful of events).
 *
 * Cached-data-size term, with bytes_i the stored bytes of event i and kept the soft fraction of
 * bytes the cuts keep, kept = sum_i(prod_k w_k(x_i) bytes_i) / sum_i(bytes_i) (the sums run over
 * background events only with size.over 'background'; see prepareBatch); with column gates
 * (columnGates.ts) bytes_i is the pinned columns' bytes plus sum_j P(open_j) bytes_ij over the
 * candidate columns j, and sum_i(bytes_i) counts every candidate (the rows-only skim's bytes):
 *   lambda * kept                   without a target: a price per byte kept. lambda may ramp up
 *                                   geometrically over the epochs from size.lambdaStart.
 *   mu * target * A(kept / target)  with a target kept fraction (targetKeptFraction, or
 *                                   targetBytes / bytes in): the augmented Lagrangian term of the
 *                                   constraint kept <= target, A(1) = 0, of slope mu f(kept /
 *                                   target), f(r) = min(CAP, max(0, 1 + STIFFNESS (r - 1))) (see
 *                                   sizeSlope). mu, the multiplier, is not a setting but set by the
 *                                   trainer for each step (src/training/sizeConstraint.ts), raised
 *                                   while kept is above the target and lowered below it; lambda (or
 *                                   lambdaStart) is only where it starts (see startingMultiplier).
 *                                   The target a step sees is the trainer's too: lowered to the
 *                                   pipeline's over the first half of the steps.
 * The kernels (TF.js and fused) need the term and its slope in kept of the batch: sizeTerm,
 * sizeSlope (sizeTermTf).
 */
export type LossKind = 'bce' | 'mse' | 's-over-sqrt-b' | 'asimov' | 'signal-efficiency';

export interface LossSettings {
  kind: LossKind;
  lambda: number;
  /** Target kept fraction (a constraint), this step's on the trainer's schedule; null: the plain lambda * kept. */
  target: number | null;
  /** With a target: the constraint's multiplier of this step (the trainer's: training/sizeConstraint.ts). */
  multiplier: number;
  signalYield: number;
  backgroundYield: number;
  /** Relative uncertainty on the background yield (significance losses). */
  sigmaB: number;
}

/** The cached-data-size term as a pipeline file gives it (`loss.size`). */
export interface SizeConfig {
  lambda: number;
  lambdaStart?: number;
  targetKeptFraction?: number;
  targetBytes?: number;
  over: 'all' | 'background';
}

/** The loss as a pipeline file gives it (`loss`). */
export interface LossConfig {
  kind: LossKind;
  size: SizeConfig;
  signalYield?: number;
  backgroundYield?: number;
  sigmaB?: number;
}

/** Loss settings of pipeline `name`; yields default to the weighted totals of the training data. */
export function lossSettings(
  p: { name: string; loss: LossConfig },
  bytesIn: number,
  totals: { signal: number; background: number },
): LossSettings {
  const size = p.loss.size;
  let target: number | null = size.targetKeptFraction ?? null;
  if (target === null && size.targetBytes !== undefined) {
    if (size.over === 'background')
      throw new Error(
        `pipeline '${p.name}': loss.size.targetBytes counts every event's bytes; with size.over 'background' give targetKeptFraction instead`,
      );
    target = Math.min(1, size.targetBytes / bytesIn);
  }
  return {
    kind: p.loss.kind,
    lambda: size.lambda,
    target,
    multiplier: startingMultiplier(size),
    signalYield: p.loss.signalYield ?? totals.signal,
    backgroundYield: p.loss.backgroundYield ?? totals.background,
    sigmaB: p.loss.sigmaB ?? 0,
  };
}

/** The size-term lambda of an epoch (0-based of `epochs`): geometric from lambdaStart to lambda, else constant. */
export function sizeLambda(size: SizeConfig, epoch: number, epochs: number): number {
  if (size.lambdaStart === undefined || size.lambda === 0) return size.lambda;
  const t = epochs > 1 ? epoch / (epochs - 1) : 1;
  return size.lambdaStart * Math.pow(size.lambda / size.lambdaStart, t);
}

/**
 * With a target, where the multiplier starts: lambdaStart when given, else lambda, else 1 (the
 * price at which a unit of signal efficiency buys a unit of kept fraction). The trainer adapts
 * it within ~150 steps from anywhere between 1e-3 and 1e3 times its right value.
 */
export function startingMultiplier(size: SizeConfig): number {
  return size.lambdaStart ?? (size.lambda > 0 ? size.lambda : 1);
}

/**
 * The augmented term's pull on kept, mu f(kept / target): mu at the target, none from a tenth
 * (1 / STIFFNESS) of the target below it, at most CAP mu above it. A pull of mu whatever kept (the plain Lagrangian)
 * finds only points on the concave hull of the frontier of signal kept against bytes kept: where
 * the frontier bends the other way (one-sided cuts keeping a little of a signal that sits inside
 * the background), mu is either too high for every point near the target, and the cuts run past
 * the signal to keep nothing, or too low. The target is a stable point where the frontier's
 * elasticity, d log signal / d log kept, is below 1 + STIFFNESS (3.3 for the seed toy's '>' cuts
 * at 0.05). CAP: far above the target the multiplier rises instead; a pull growing without bound
 * there would swing with each batch's kept (STIFFNESS times its noise) and tighten every cut hard,
 * cuts on noise features that should open too.
 */
const STIFFNESS = 10;
const CAP = 2;

/** The size term's value (both kernels and the float64 check use these). */
export function sizeTerm(s: LossSettings, kept: number): number {
  if (s.target === null) return s.lambda * kept;
  // mu target (integral of f from 1 to r) = mu target (g(u) - g(1)) / STIFFNESS, u = 1 + STIFFNESS (r - 1).
  const u = 1 + STIFFNESS * (kept / s.target - 1);
  const g = (v: number) => (Math.max(0, v) ** 2 - Math.max(0, v - CAP) ** 2) / 2;
  return ((s.multiplier * s.target) / STIFFNESS) * (g(u) - g(1));
}

/** d sizeTerm / d kept. */
export function sizeSlope(s: LossSettings, kept: number): number {
  return s.target === null ? s.lambda : s.multiplier * pullFactor(kept, s.target);
}

/** f(kept / target): the pull on kept relative to mu, in [0, CAP]. */
export function pullFactor(kept: number, target: number): number {
  return Math.min(CAP, Math.max(0, 1 + STIFFNESS * (kept / target - 1)));
}

/** The size term's price of kept bytes: lambda, or with a target the multiplier mu (the slope at the target). */
export function sizePrice(s: LossSettings): number {
  return s.target === null ? s.lambda : s.multiplier;
}

/**
 * What a training step multiplies the loss by before its gradient: 1 / (1 + mu) with a target.
 * (main + size) / (1 + mu) has the stationary points of the augmented Lagrangian, but a
 * gradient of bounded size whatever mu, so that Adam's running moments do not keep the scale
 * of a multiplier long gone (a large start would otherwise slow every later step).
 */
export function stepScale(s: LossSettings): number {
  return s.target === null ? 1 : 1 / (1 + s.multiplier);
}

export function isSignificance(kind: LossKind): boolean {
  return kind === 's-over-sqrt-b' || kind === 'asimov';
}

/** One minibatch for the TF loss. Events whose cut variable is NaN have weight 0 and keptBytes 0. */
export interface LossBatch {
  label: tf.Tensor1D;
  weight: tf.Tensor1D;
  /** bytes_i where the event can pass the cuts, else 0 (with column gates: the pinned columns' bytes). */
  keptBytes: tf.Tensor1D;
  /** With column gates: each candidate column's bytes_ij [N, gates] where the event can pass, else 0. */
  candidateBytes?: tf.Tensor2D;
  sumWeight: number;
  sumSignalWeight: number;
  sumBackgroundWeight: number;
  /** sum of bytes_i over every event of the batch. */
  sumBytes: number;
}

export interface LossTensors {
  total: tf.Scalar;
  main: tf.Scalar;
  size: tf.Scalar;
  kept: tf.Scalar;
}

export function tfLoss(s: LossSettings, out: ForwardOutput, b: LossBatch): LossTensors {
  const { logCut, logit } = out;
  if (!logCut && !logit) throw new Error('loss: the model has neither cuts nor a classifier');
  const logSig = logit ? logSigmoid(logit) : null;
  const logP = (logCut && logSig ? tf.add(logCut, logSig) : (logCut ?? logSig)) as tf.Tensor1D;
  let main: tf.Scalar;
  if (s.kind === 'bce') {
    const log1mP = logCut ? log1mPTf(logCut, logit ? logSigmoid(tf.neg(logit)) : null) : logSigmoid(tf.neg(logit!));
    const perEvent = tf.add(tf.mul(b.label, logP), tf.mul(tf.sub(1, b.label), log1mP));
    main = tf.div(tf.neg(tf.sum(tf.mul(b.weight, perEvent))), Math.max(b.sumWeight, 1e-30)) as tf.Scalar;
  } else if (s.kind === 'mse') {
    main = tf.div(
      tf.sum(tf.mul(b.weight, tf.square(tf.sub(tf.exp(logP), b.label)))),
      Math.max(b.sumWeight, 1e-30),
    ) as tf.Scalar;
  } else if (s.kind === 'signal-efficiency') {
    main = tf.div(
      tf.neg(tf.sum(tf.mul(tf.mul(b.weight, tf.exp(logP)), b.label))),
      Math.max(b.sumSignalWeight, 1e-30),
    ) as tf.Scalar;
  } else {
    const wP = tf.mul(b.weight, tf.exp(logP));
    const sig = tf.mul(tf.sum(tf.mul(wP, b.label)), s.signalYield / Math.max(b.sumSignalWeight, 1e-30));
    const bkg = tf.mul(
      tf.sum(tf.mul(wP, tf.sub(1, b.label))),
      s.backgroundYield / Math.max(b.sumBackgroundWeight, 1e-30),
    );
    main = tf.neg(significanceTf(s, sig as tf.Scalar, bkg as tf.Scalar));
  }
  const cut = logCut ? tf.exp(logCut) : null;
  let keptBytes = tf.sum(cut ? tf.mul(cut, b.keptBytes) : b.keptBytes);
  // Column gates: + sum_j P(open_j) sum_i cut_i bytes_ij.
  if (out.gateOpen && b.candidateBytes) {
    const perColumn = cut ? tf.sum(tf.mul(tf.reshape(cut, [-1, 1]), b.candidateBytes), 0) : tf.sum(b.candidateBytes, 0);
    keptBytes = tf.add(keptBytes, tf.sum(tf.mul(perColumn, out.gateOpen)));
  }
  const kept = tf.div(keptBytes, b.sumBytes) as tf.Scalar;
  const size = sizeTermTf(s, kept);
  return { total: tf.add(main, size), main, size, kept };
}

/**
 * log(1 - P) for P = c * sigmoid(logit), c = exp(logCut): 1 - P = (1 - c) + c * sigmoid(-logit),
 * summed in log space, so that an event the classifier gets confidently wrong still has a
 * gradient (1 - exp(logP) rounds to 0 there). 1 - c = -expm1(logCut) keeps its precision deep
 * inside the cuts; the floor only keeps the log finite where logCut underflows to 0.
 */
function log1mPTf(logCut: tf.Tensor1D, logSigNeg: tf.Tensor | null): tf.Tensor {
  const log1mCut = tf.log(tf.maximum(tf.neg(tf.expm1(logCut)), LOG_FLOOR));
  return logSigNeg ? logAddExp(log1mCut, tf.add(logCut, logSigNeg)) : log1mCut;
}

/** log(1 - P) in float64, as log1mPTf. */
function log1mP(logCut: number, logit: number | null): number {
  const log1mCut = Math.log(Math.max(-Math.expm1(logCut), LOG_FLOOR));
  if (logit === null) return log1mCut;
  const other = logCut - softplus(logit);
  const m = Math.max(log1mCut, other);
  return m + Math.log(Math.exp(log1mCut - m) + Math.exp(other - m));
}

function sizeTermTf(s: LossSettings, kept: tf.Scalar): tf.Scalar {
  if (s.target === null) return tf.mul(kept, s.lambda);
  const u = tf.add(tf.mul(kept, STIFFNESS / s.target), 1 - STIFFNESS);
  const g = tf.div(tf.sub(tf.square(tf.relu(u)), tf.square(tf.relu(tf.sub(u, CAP)))), 2);
  return tf.mul(tf.sub(g, 0.5), (s.multiplier * s.target) / STIFFNESS);
}

function significanceTf(s: LossSettings, sig: tf.Scalar, bkg: tf.Scalar): tf.Scalar {
  const eps = 1e-3 * s.backgroundYield;
  if (s.kind === 's-over-sqrt-b')
    return tf.div(sig, tf.sqrt(tf.add(tf.add(bkg, tf.square(tf.mul(bkg, s.sigmaB))), eps)));
  const b = tf.add(bkg, eps);
  const sb = tf.add(sig, b);
  let z2: tf.Tensor;
  if (s.sigmaB === 0) z2 = tf.mul(tf.sub(tf.mul(sb, tf.log1p(tf.div(sig, b))), sig), 2);
  else {
    const v = tf.square(tf.mul(b, s.sigmaB));
    const first = tf.mul(sb, tf.log(tf.div(tf.mul(sb, tf.add(b, v)), tf.add(tf.square(b), tf.mul(sb, v)))));
    const second = tf.mul(tf.div(tf.square(b), v), tf.log1p(tf.div(tf.mul(v, sig), tf.mul(b, tf.add(b, v)))));
    z2 = tf.mul(tf.sub(first, second), 2);
  }
  return tf.sqrt(tf.maximum(z2, 1e-12)) as tf.Scalar;
}

/** The same loss in float64 JS, for data streamed through in any number of batches. */
export class LossAccumulator {
  private sumW = 0;
  private sumWLoss = 0;
  private sumSig = 0;
  private sumBkg = 0;
  private sumSigP = 0;
  private sumBkgP = 0;
  private sumBytes = 0;
  private sumKeptBytes = 0;
  private sumCut = 0;
  private events = 0;

  constructor(private readonly s: LossSettings) {}

  /**
   * logCut: log prod w_k per event (-Infinity fails), or null without cuts; logit: MLP output
   * or null; weight and keptBytes: as in LossBatch; bytes: stored bytes of every event.
   */
  add(
    logCut: Float64Array | null,
    logit: Float64Array | null,
    label: ArrayLike<number>,
    weight: ArrayLike<number>,
    keptBytes: ArrayLike<number>,
    bytes: ArrayLike<number>,
  ): void {
    const n = label.length;
    for (let i = 0; i < n; i++) {
      const lc = logCut ? logCut[i] : 0;
      const cut = Math.exp(lc);
      const logSig = logit ? -softplus(-logit[i]) : 0;
      const logP = lc + logSig;
      const p = Math.exp(logP);
      const w = weight[i];
      const y = label[i];
      this.events++;
      this.sumBytes += bytes[i];
      this.sumCut += cut;
      if (keptBytes[i] !== 0) this.sumKeptBytes += cut * keptBytes[i];
      if (w === 0) continue;
      this.sumW += w;
      if (this.s.kind === 'bce') {
        const logNotP = logCut ? log1mP(lc, logit ? logit[i] : null) : -softplus(logit![i]);
        this.sumWLoss -= w * (y * logP + (1 - y) * logNotP);
      } else if (this.s.kind === 'mse') this.sumWLoss += w * (p - y) ** 2;
      this.sumSigP += w * y * p;
      this.sumBkgP += w * (1 - y) * p;
    }
  }

  /** Adds signal and background weight totals of the events (including those cut by NaN). */
  addTotals(label: ArrayLike<number>, weight: ArrayLike<number>): void {
    for (let i = 0; i < label.length; i++) {
      this.sumSig += weight[i] * label[i];
      this.sumBkg += weight[i] * (1 - label[i]);
    }
  }

  result(): { main: number; size: number; total: number; keptFraction: number; keptBytesFraction: number } {
    const s = this.s;
    let main: number;
    if (s.kind === 'bce' || s.kind === 'mse') main = this.sumWLoss / Math.max(this.sumW, 1e-30);
    else if (s.kind === 'signal-efficiency') main = -this.sumSigP / Math.max(this.sumSig, 1e-30);
    else {
      const sig = (s.signalYield * this.sumSigP) / Math.max(this.sumSig, 1e-30);
      const bkg = (s.backgroundYield * this.sumBkgP) / Math.max(this.sumBkg, 1e-30);
      main = -significance(s, sig, bkg);
    }
    const kept = this.sumKeptBytes / this.sumBytes;
    const size = sizeTerm(s, kept);
    return { main, size, total: main + size, keptFraction: this.sumCut / this.events, keptBytesFraction: kept };
  }
}

export function significance(s: LossSettings, sig: number, bkg: number): number {
  const eps = 1e-3 * s.backgroundYield;
  if (s.kind === 's-over-sqrt-b') return sig / Math.sqrt(bkg + (s.sigmaB * bkg) ** 2 + eps);
  return Math.sqrt(Math.max(asimovZ2(sig, bkg + eps, s.sigmaB), 1e-12));
}

/**
 * Z_A^2, the Asimov discovery significance squared of s signal over b background events:
 * 2((s+b) ln(1+s/b) - s), or Cowan's formula when sigmaB (the relative uncertainty on b) is > 0.
 */
export function asimovZ2(sig: number, b: number, sigmaB: number): number {
  const sb = sig + b;
  if (sigmaB === 0) return 2 * (sb * Math.log1p(sig / b) - sig);
  const v = (sigmaB * b) ** 2;
  return 2 * (sb * Math.log((sb * (b + v)) / (b * b + sb * v)) - ((b * b) / v) * Math.log1p((v * sig) / (b * (b + v))));
}
