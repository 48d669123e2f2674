import { type LossSettings, pullFactor } from '../model/losses.js';

/**
 * The size target as a constraint, kept <= target, by dual ascent on the multiplier mu of its
 * augmented Lagrangian term (losses.ts' sizeTerm, whose pull on each batch's kept is
 * mu f(kept / target), f = pullFactor: 1 at the target, 0 a tenth below it, 2 above it: the
 * proportional part). After every step mu is multiplied by exp(rate (f(ema / target) - 1)), where
 * ema is an exponential moving average of the steps' soft kept fractions (minibatch noise
 * smoothed over ~1 / SMOOTHING steps): the integral part, bounded like the pull (an integral
 * that ran on while the pull is at its bound would overshoot). A multiplicative step needs no
 * scale: mu moves by a factor e in 1 / rate steps while kept is 10 % off the target or more;
 * a start (lambda) 1e3 times too large keeps no pull below the target, so the cuts do not run
 * past the signal while mu comes down. Training ends at the multiplier where the classification
 * term's marginal gain equals mu's price. mu lives here, not in a kernel: each step gets it as
 * LossSettings.multiplier, so the TF.js and fused steppers share it, and checkpoints keep it.
 */
export interface ConstraintState {
  multiplier: number;
  /** Smoothed soft kept fraction; null before the first step. */
  keptEma: number | null;
}

/**
 * Relative change of mu per step at the largest violation (the integral part): RATE, or more in a
 * short training, so that mu can cross a factor e^SPAN (~150) within its steps.
 */
const RATE = 0.01;
const SPAN = 5;
/** Weight of the newest step in the moving average of kept. */
const SMOOTHING = 0.1;
/** mu never falls below this fraction of its start (a target that stops binding may bind again). */
const FLOOR = 1e-6;

export class SizeConstraint {
  private readonly floor: number;
  private readonly rate: number;

  constructor(
    private readonly target: number,
    private state: ConstraintState,
    start: number,
    steps: number,
  ) {
    this.floor = FLOOR * start;
    this.rate = Math.max(RATE, SPAN / steps);
  }

  /** The constraint of a training of `steps` steps; null without a target. */
  static start(loss: LossSettings, steps: number): SizeConstraint | null {
    if (loss.target === null) return null;
    return new SizeConstraint(loss.target, { multiplier: loss.multiplier, keptEma: null }, loss.multiplier, steps);
  }

  static resume(loss: LossSettings, steps: number, state: ConstraintState): SizeConstraint | null {
    return loss.target === null ? null : new SizeConstraint(loss.target, { ...state }, loss.multiplier, steps);
  }

  /** The multiplier the next step uses. */
  get multiplier(): number {
    return this.state.multiplier;
  }

  /** After a step that measured the soft kept fraction `kept` of its batch. */
  observe(kept: number): void {
    const s = this.state;
    s.keptEma = s.keptEma === null ? kept : s.keptEma + SMOOTHING * (kept - s.keptEma);
    const step = this.rate * (pullFactor(s.keptEma, Math.max(this.target, 1e-9)) - 1);
    s.multiplier = Math.max(this.floor, s.multiplier * Math.exp(step));
  }

  snapshot(): ConstraintState {
    return { ...this.state };
  }
}
