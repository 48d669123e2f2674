import { type LossSettings, pullFactor } from '../model/losses.js';

/**
 * The size target as a constraint, kept <= target, by dual ascent on the multiplier mu of its
 * augmented Lagrangian term (losses.ts' sizeTerm, whose pull on each batch's kept is
 * mu f(kept / target), f = pullFactor: 1 at the target, 0 a tenth below it, 2 above it).
 *
 * The multiplier. The cuts settle where the pull mu f balances the classification term's marginal
 * gain, mu* (the frontier's slope, d signal / d kept); so the pull factor's average over the
 * steps, fbar, measures mu* / mu: below 1, mu is too high (the cuts sit below the target, where
 * f falls), above 1 too low. After every step log mu moves by RATE log fbar (bounded): a start
 * 1e3 times off comes within a few per cent of mu* in ~100 steps, geometrically, without a scale.
 * A too-high mu must not linger: its pull, on and off with each batch's noise, swamps the
 * classification term in Adam's running moments, and the cuts stop finding their shape.
 *
 * The target. Where the frontier is not concave, the cuts can close onto a poorer local optimum
 * (a window round the signal's core, not its tail away from the background) when they are pulled
 * to a tight target at once. So the target the steps see is lowered over the first SCHEDULE of the
 * steps, geometrically, from the first step's kept fraction to the pipeline's (a homotopy: the
 * cuts follow the optimum as it moves); from there it is the pipeline's.
 *
 * mu and the schedule live here, not in a kernel: each step gets them as LossSettings' multiplier
 * and target, so every stepper shares them, and checkpoints keep them.
 */
export interface ConstraintState {
  multiplier: number;
  /** Moving average of the steps' pull factors; null before the first step. */
  pullEma: number | null;
  /** The first step's soft kept fraction, where the target's schedule starts; null before it. */
  startKept: number | null;
  /** Steps observed. */
  steps: number;
}

/** Step of log mu per unit of log fbar. */
const RATE = 0.05;
/** log fbar is bounded to [-LOG_RANGE, log 2]: at most a factor e^(RATE LOG_RANGE) a step. */
const LOG_RANGE = 3;
/** Weight of the newest step in the moving average of the pull factor. */
const SMOOTHING = 0.1;
/** mu never falls below this fraction of its start (a target that stops binding may bind again). */
const FLOOR = 1e-6;
/** The fraction of the steps over which the target is lowered to the pipeline's. */
const SCHEDULE = 0.5;

export class SizeConstraint {
  private readonly floor: number;
  private readonly scheduleSteps: number;

  constructor(
    private readonly final: number,
    private state: ConstraintState,
    start: number,
    steps: number,
  ) {
    this.floor = FLOOR * start;
    this.scheduleSteps = Math.max(1, Math.floor(SCHEDULE * steps));
  }

  /** The constraint of a training of `steps` steps; null without a target. */
  static start(loss: LossSettings, steps: number): SizeConstraint | null {
    if (loss.target === null) return null;
    const state = { multiplier: loss.multiplier, pullEma: null, startKept: null, steps: 0 };
    return new SizeConstraint(loss.target, state, loss.multiplier, steps);
  }

  static resume(loss: LossSettings, steps: number, state: ConstraintState): SizeConstraint | null {
    return loss.target === null ? null : new SizeConstraint(loss.target, { ...state }, loss.multiplier, steps);
  }

  /** Whether a checkpoint's state has this version's fields. */
  static isState(state: unknown): state is ConstraintState {
    const s = state as Partial<ConstraintState> | null;
    return typeof s?.multiplier === 'number' && typeof s.steps === 'number' && 'pullEma' in s && 'startKept' in s;
  }

  /** The multiplier the next step uses. */
  get multiplier(): number {
    return this.state.multiplier;
  }

  /** The target the next step uses: on its schedule from the first step's kept fraction to the pipeline's. */
  get target(): number {
    const { startKept, steps } = this.state;
    if (startKept === null || startKept <= this.final) return this.final;
    return startKept * Math.pow(this.final / startKept, Math.min(1, steps / this.scheduleSteps));
  }

  /** Sets the multiplier and the target the next step uses in its settings. */
  apply(settings: LossSettings): void {
    [settings.multiplier, settings.target] = [this.multiplier, this.target];
  }

  /** After a step that measured the soft kept fraction `kept` of its batch. */
  observe(kept: number): void {
    const s = this.state;
    const f = pullFactor(kept, Math.max(this.target, 1e-9));
    s.startKept ??= kept;
    s.pullEma = s.pullEma === null ? f : s.pullEma + SMOOTHING * (f - s.pullEma);
    const step = RATE * Math.min(Math.log(2), Math.max(-LOG_RANGE, Math.log(s.pullEma)));
    s.multiplier = Math.max(this.floor, s.multiplier * Math.exp(step));
    s.steps++;
  }

  snapshot(): ConstraintState {
    return { ...this.state };
  }
}
