import { lastValueFrom, map, reduce } from 'rxjs';
import { asimovZ2 } from '../model/losses.js';
import type { ScoreCut } from '../operators/hardCut.js';
import { type HardCut, passMask } from '../selection/cutsFile.js';
import { namesToRead } from '../selection/expr/index.js';
import type { SampleRole } from '../samples/config.js';
import { type ResolvedSample, sampleColumns, sampleEvents } from '../samples/sample.js';
import { type CutRange } from './cutHistograms.js';
import { StackedHistograms, type StackedDistribution } from './stackedHistograms.js';

/** A sample's events and weighted yields, before and after the cuts. */
export interface SampleYield {
  name: string;
  process: string;
  role: SampleRole;
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
  /** Samples of the samples form (each signal or background as a whole). */
  samples: ResolvedSample[];
  cuts: HardCut[];
  score?: ScoreCut;
  /** Histogram ranges of the cut variables (cutRanges). */
  ranges: CutRange[];
  /** Relative background uncertainty for Z_A (the loss's sigmaB; 0 without one). */
  sigmaB?: number;
}): Promise<SampleCounts> {
  const hists = new StackedHistograms(o.ranges);
  const samples: SampleYield[] = [];
  const roles = processRoles(o.samples);
  for (const s of o.samples) {
    const role = roles.get(s.process)!;
    const columns = new Set([
      ...o.cuts.flatMap((c) => namesToRead(s.info.schema, c.column)),
      ...sampleColumns(s),
      ...(o.score?.columns ?? []),
    ]);
    const start = { eventsIn: 0, eventsKept: 0, yieldIn: 0, sumW2In: 0, yieldKept: 0, sumW2Kept: 0 };
    const t = await lastValueFrom(
      s.opened.source.batches({ columns: [...columns] }).pipe(
        map((batch) => {
          const w = sampleEvents(s, batch).weight ?? new Float64Array(batch.length).fill(1);
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
      role,
      ...t,
      eventsCut: t.eventsIn - t.eventsKept,
      efficiency: t.yieldIn !== 0 ? t.yieldKept / t.yieldIn : NaN,
    });
  }
  return {
    samples,
    significance: significanceOf(samples, o.sigmaB ?? 0),
    distributions: hists.distributions(roles),
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

/** Each process's role: one for all its samples (a sample of the single-source form, without one, is refused). */
function processRoles(samples: ResolvedSample[]): Map<string, SampleRole> {
  const roles = new Map<string, SampleRole>();
  for (const s of samples) {
    if (s.role === null)
      throw new Error(`'${s.name}' is not a sample of a samples: list (its label decides each event's class)`);
    const other = roles.get(s.process);
    if (other && other !== s.role)
      throw new Error(`process '${s.process}' has both signal and background samples: give them different processes`);
    roles.set(s.process, s.role);
  }
  return roles;
}
