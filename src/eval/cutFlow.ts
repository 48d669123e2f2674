import type { EventBatch } from '../batch/batch.js';
import { compileExpr } from '../selection/expr/index.js';
import { passMask, type CutsFile, type HardCut } from '../selection/cutsFile.js';

/** One row of a cut flow: what is left after this step and every step before it. */
export interface CutFlowRow {
  step: string;
  /** Events left (unweighted). */
  events: number;
  /** Estimated stored bytes of the events left. */
  bytes: number;
  /** Weighted signal and background left (absent for an unlabelled dataset). */
  signal?: number;
  background?: number;
  /** Fractions of the first row ('all events'). */
  fraction: { events: number; bytes: number; signal?: number; background?: number };
}

export function describeCut(cut: HardCut): string {
  // A condition (a preselection) passes where it holds: it reads as itself.
  if (cut.op === '>' && cut.value === 0.5 && isCondition(cut.column)) return cut.column;
  if (cut.op === 'between') return `${fmt(cut.low)} < ${cut.column} < ${fmt(cut.high)}`;
  return `${cut.column} ${cut.op} ${fmt(cut.value)}`;
}

function isCondition(text: string): boolean {
  try {
    return compileExpr(text).bool;
  } catch {
    return false;
  }
}

/** Four significant digits, no trailing zeros. */
function fmt(v: number): string {
  return String(Number(v.toPrecision(4)));
}

/**
 * Cumulative cut flow of a cuts file: 'all events', then each hard cut in order, then the
 * score cut if there is one. NaN in a cut variable fails the cut, as in the skim.
 */
export class CutFlow {
  readonly steps: string[];
  private readonly events: Float64Array;
  private readonly bytes: Float64Array;
  private readonly signal: Float64Array;
  private readonly background: Float64Array;

  constructor(
    private readonly cuts: CutsFile,
    private readonly labelled: boolean,
  ) {
    this.steps = ['all events', ...cuts.cuts.map(describeCut), ...(cuts.score ? [`score > ${cuts.score.value}`] : [])];
    const n = this.steps.length;
    [this.events, this.bytes, this.signal, this.background] = [0, 1, 2, 3].map(() => new Float64Array(n));
  }

  /**
   * Adds a batch; `score` is needed when the cuts file has a score cut. Returns the events that
   * pass everything (1) or not (0).
   */
  add(
    batch: EventBatch,
    score: ArrayLike<number> | null,
    isSignal: Uint8Array | null,
    weight: ArrayLike<number> | null,
    bytes: ArrayLike<number> | null,
  ): Uint8Array {
    const mask = new Uint8Array(batch.length).fill(1);
    this.count(0, mask, isSignal, weight, bytes);
    this.cuts.cuts.forEach((cut, k) => {
      const pass = passMask(batch, [cut]);
      for (let i = 0; i < mask.length; i++) mask[i] &= pass[i];
      this.count(k + 1, mask, isSignal, weight, bytes);
    });
    if (this.cuts.score) {
      if (!score) throw new Error('cut flow: the cuts file has a score cut but no scores were given');
      const t = this.cuts.score.value;
      for (let i = 0; i < mask.length; i++) mask[i] &= score[i] > t ? 1 : 0;
      this.count(this.steps.length - 1, mask, isSignal, weight, bytes);
    }
    return mask;
  }

  private count(
    step: number,
    mask: Uint8Array,
    isSignal: Uint8Array | null,
    weight: ArrayLike<number> | null,
    bytes: ArrayLike<number> | null,
  ): void {
    let [n, nb, s, b] = [0, 0, 0, 0];
    for (let i = 0; i < mask.length; i++) {
      if (!mask[i]) continue;
      n++;
      if (bytes) nb += bytes[i];
      if (!isSignal) continue;
      const w = weight ? weight[i] : 1;
      if (isSignal[i]) s += w;
      else b += w;
    }
    this.events[step] += n;
    this.bytes[step] += nb;
    this.signal[step] += s;
    this.background[step] += b;
  }

  rows(): CutFlowRow[] {
    const frac = (x: number, total: number) => (total > 0 ? x / total : 0);
    // A class with no events has no efficiency (null in eval.json, '-' when printed), not 0.
    const efficiency = (x: number, total: number) => (total !== 0 ? x / total : NaN);
    return this.steps.map((step, k) => ({
      step,
      events: this.events[k],
      bytes: this.bytes[k],
      ...(this.labelled && { signal: this.signal[k], background: this.background[k] }),
      fraction: {
        events: frac(this.events[k], this.events[0]),
        bytes: frac(this.bytes[k], this.bytes[0]),
        ...(this.labelled && {
          signal: efficiency(this.signal[k], this.signal[0]),
          background: efficiency(this.background[k], this.background[0]),
        }),
      },
    }));
  }
}
