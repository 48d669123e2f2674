import { lastValueFrom, map, reduce } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import { asimovZ2 } from '../model/losses.js';
import type { ScoreCut } from '../operators/hardCut.js';
import { type HardCut, passMask } from '../selection/cutsFile.js';
import { parseQuantity } from '../selection/quantity.js';
import type { EventSource } from '../sources/types.js';
import { type CutRange } from './cutHistograms.js';
import { StackedHistograms, type StackedDistribution } from './stackedHistograms.js';

/** One sample as the yields pass needs it: where its events are and each event's weight. */
export interface SampleToCount {
  name: string;
  /** Process name for the report and the stacked plots (several samples may share one). */
  process: string;
  role: 'signal' | 'background';
  source: EventSource;
  /** Columns the weight function reads. */
  weightColumns: string[];
  /** Normalised event weights of a batch: sigma x L x w_gen / sum(w_gen) x factors. */
  weights(batch: EventBatch): Float64Array;
}

/** A sample's events and weighted yields, before and after the cuts. */
export interface SampleYield {
  name: string;
  process: string;
  role: 'signal' | 'background';
  eventsIn: number;
  eventsKept: number;
  eventsCut: number;
  /** Sum of event weights over all events, and its statistical variance sum(w^2). */
  yieldIn: number;
  sumW2In: number;
  /** The same over the events that pass the cuts. */
  yieldKept: number;
  sumW2Kept: number;
  /** yieldKept / yieldIn (signed weights; NaN for a sample of zero yield). */
  efficiency: number;
}

/** What a skim with the cuts leaves of the signal and background samples together. */
export interface Significance {
  /** Weighted signal and background yields after the cuts. */
  signal: number;
  background: number;
  /** S / sqrt(B) (Infinity for B = 0, NaN for B < 0). */
  sOverSqrtB: number;
  /** Asimov discovery significance Z_A, with the relative background uncertainty sigmaB. */
  asimov: number;
  sigmaB: number;
}

export interface SampleCounts {
  samples: SampleYield[];
  significance: Significance;
  /** Weighted histograms of each cut variable per process, over all events (before the cuts). */
  distributions: StackedDistribution[];
}

/**
 * Streams each sample once (its cut variables and weight columns only, memory bounded by a batch
 * and fixed histograms) and counts its events and weighted yields before and after the cuts (the
 * rectangular cuts and, when given, the score cut, as a skim applies them), with the stacked
 * histograms of each cut variable.
 */
export async function countSamples(o: {
  samples: SampleToCount[];
  cuts: HardCut[];
  score?: ScoreCut;
  /** Histogram ranges of the cut variables (cutRanges). */
  ranges: CutRange[];
  /** Relative background uncertainty for Z_A (the loss's sigmaB; 0 without one). */
  sigmaB?: number;
}): Promise<SampleCounts> {
  const hists = new StackedHistograms(o.ranges);
  const samples: SampleYield[] = [];
  for (const s of o.samples) {
    const columns = new Set([
      ...o.cuts.map((c) => readName(c.column)),
      ...s.weightColumns,
      ...(o.score?.columns ?? []),
    ]);
    const start = { eventsIn: 0, eventsKept: 0, yieldIn: 0, sumW2In: 0, yieldKept: 0, sumW2Kept: 0 };
    const t = await lastValueFrom(
      s.source.batches({ columns: [...columns] }).pipe(
        map((batch) => {
          const w = s.weights(batch);
          const mask = passMask(batch, o.cuts);
          if (o.score) {
            const score = o.score.fn(batch);
            for (let i = 0; i < mask.length; i++) mask[i] &= score[i] > o.score.threshold ? 1 : 0;
          }
          hists.add(batch, s.process, w);
          return { w, mask };
        }),
        reduce((t, { w, mask }) => {
          t.eventsIn += w.length;
          for (let i = 0; i < w.length; i++) {
            t.yieldIn += w[i];
            t.sumW2In += w[i] * w[i];
            if (!mask[i]) continue;
            t.eventsKept++;
            t.yieldKept += w[i];
            t.sumW2Kept += w[i] * w[i];
          }
          return t;
        }, start),
      ),
      { defaultValue: start },
    );
    samples.push({
      name: s.name,
      process: s.process,
      role: s.role,
      ...t,
      eventsCut: t.eventsIn - t.eventsKept,
      efficiency: t.yieldIn !== 0 ? t.yieldKept / t.yieldIn : NaN,
    });
  }
  return {
    samples,
    significance: significanceOf(samples, o.sigmaB ?? 0),
    distributions: hists.distributions(processRoles(o.samples)),
  };
}

/** S, B, S/sqrt(B) and Z_A of the samples' yields after the cuts. */
export function significanceOf(samples: SampleYield[], sigmaB: number): Significance {
  const sum = (role: string) => samples.filter((s) => s.role === role).reduce((a, s) => a + s.yieldKept, 0);
  const signal = sum('signal');
  const background = sum('background');
  const sOverSqrtB = background > 0 ? signal / Math.sqrt(background) : background === 0 ? Infinity : NaN;
  const z2 = background > 0 ? asimovZ2(signal, background, sigmaB) : NaN;
  return { signal, background, sOverSqrtB, asimov: Math.sqrt(Math.max(z2, 0)), sigmaB };
}

/** The totals of several samples' yields (the report's last row). */
export function totalOf(samples: SampleYield[]): Omit<SampleYield, 'name' | 'process' | 'role'> {
  const sum = (k: keyof SampleYield) => samples.reduce((a, s) => a + (s[k] as number), 0);
  const yieldIn = sum('yieldIn');
  const yieldKept = sum('yieldKept');
  return {
    eventsIn: sum('eventsIn'),
    eventsKept: sum('eventsKept'),
    eventsCut: sum('eventsCut'),
    yieldIn,
    sumW2In: sum('sumW2In'),
    yieldKept,
    sumW2Kept: sum('sumW2Kept'),
    efficiency: yieldIn !== 0 ? yieldKept / yieldIn : NaN,
  };
}

function processRoles(samples: SampleToCount[]): Map<string, 'signal' | 'background'> {
  const roles = new Map<string, 'signal' | 'background'>();
  for (const s of samples) {
    const other = roles.get(s.process);
    if (other && other !== s.role)
      throw new Error(`process '${s.process}' has both signal and background samples: give them different processes`);
    roles.set(s.process, s.role);
  }
  return roles;
}

/** What a source is asked to read for a cut variable (a count(list) without the list's values). */
function readName(text: string): string {
  const q = parseQuantity(text);
  return q.fn === 'count' ? q.text : q.column;
}
