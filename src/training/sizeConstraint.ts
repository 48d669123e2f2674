import type { LossSettings } from '../model/losses.js';

/**
 * The size target as a constraint, kept <= target, by dual ascent on its Lagrange multiplier mu:
 * the loss carries mu * (kept - target) (losses.ts), and after every step mu is multiplied by
 * exp(RATE * v), v = log(ema / target) clipped to [LOWEST, HIGHEST], where ema is an exponential
 * moving average of the steps' soft kept fractions (minibatch noise smoothed over ~1 / SMOOTHING
 * steps). A multiplicative step needs no scale: mu grows by a factor e in 1 / (rate * HIGHEST)
 * steps while kept is e^2 times the target or more, and falls faster (e in 1 / (RATE * -LOWEST))
 * when the cuts keep far less, so a start (lambda) 1e3 times too large lets the cuts overshoot
 * only briefly. Training ends at the multiplier where the classification term's marginal gain
 * equals mu's price. mu lives here, not in a kernel: each step gets it as
 * LossSettings.multiplier, so the TF.js and fused steppers share it, and checkpoints keep it.
 */
export interface ConstraintState {
  multiplier: number;
  /** Smoothed soft kept fraction; null before the first step. */
  keptEma: number | null;
}

/**
 * Relative change of mu per step and unit of log(kept / target) (the integral part): RATE, or
 * more in a short training, so that mu can cross a factor e^SPAN (~150) within its steps.
 */
const RATE = 0.01;
const SPAN = 5;
/** The proportional part: the step's multiplier is mu (kept / target)^GAIN. */
const GAIN = 1;
/** Bounds on log(kept / target): mu rises at most e-fold in 20 steps, falls at most e-fold in 8. */
const HIGHEST = 2;
const LOWEST = -5;
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
    this.rate = Math.max(RATE, SPAN / (HIGHEST * steps));
  }

  /** The constraint of a training of `steps` steps; null without a target. */
  static start(loss: LossSettings, steps: number): SizeConstraint | null {
    if (loss.target === null) return null;
    return new SizeConstraint(loss.target, { multiplier: loss.multiplier, keptEma: null }, loss.multiplier, steps);
  }

  static resume(loss: LossSettings, steps: number, state: ConstraintState): SizeConstraint | null {
    return loss.target === null ? null : new SizeConstraint(loss.target, { ...state }, loss.multiplier, steps);
  }

  /** The multiplier a step uses: mu times exp(GAIN * v), so the pull eases at once when kept falls below the target. */
  get multiplier(): number {
    const s = this.state;
    return s.keptEma === null ? s.multiplier : s.multiplier * Math.exp(GAIN * this.violation());
  }

  private violation(): number {
    const ratio = Math.log(Math.max(this.state.keptEma!, 1e-300) / Math.max(this.target, 1e-9));
    return Math.max(LOWEST, Math.min(HIGHEST, ratio));
  }

  /** After a step that measured the soft kept fraction `kept` of its batch. */
  observe(kept: number): void {
    const s = this.state;
    s.keptEma = s.keptEma === null ? kept : s.keptEma + SMOOTHING * (kept - s.keptEma);
    s.multiplier = Math.max(this.floor, s.multiplier * Math.exp(this.rate * this.violation()));
  }

  snapshot(): ConstraintState {
    return { ...this.state };
  }
}
