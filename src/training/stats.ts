import { lastValueFrom, type Observable, reduce } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import { valuesOf } from '../selection/expr/index.js';
import { seededRandom } from '../util/random.js';
import { batchLocation, eventLabels, eventWeights } from './eventWeights.js';

/** Mean, spread and approximate quantiles of one quantity (NaN and ±Inf left out, and counted). */
export interface QuantityStats {
  count: number;
  nonFinite: number;
  mean: number;
  std: number;
  min: number;
  max: number;
  /** Sorted reservoir sample (at most the sampler's capacity). */
  sample: Float64Array;
}

export function quantile(stats: QuantityStats, p: number): number {
  const s = stats.sample;
  if (s.length === 0) return NaN;
  const at = Math.min(s.length - 1, Math.max(0, p * (s.length - 1)));
  const lo = Math.floor(at);
  const hi = Math.min(s.length - 1, lo + 1);
  return s[lo] + (s[hi] - s[lo]) * (at - lo);
}

/** Welford running moments plus a seeded reservoir sample (Algorithm R): bounded memory. */
class QuantitySampler {
  private n = 0;
  private nonFinite = 0;
  private mean = 0;
  private m2 = 0;
  private min = Infinity;
  private max = -Infinity;
  private readonly reservoir: Float64Array;
  private filled = 0;

  constructor(
    capacity: number,
    private readonly random: () => number,
  ) {
    this.reservoir = new Float64Array(capacity);
  }

  add(x: Float64Array): void {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (!Number.isFinite(v)) {
        this.nonFinite++;
        continue;
      }
      this.n++;
      const d = v - this.mean;
      this.mean += d / this.n;
      this.m2 += d * (v - this.mean);
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      if (this.filled < this.reservoir.length) this.reservoir[this.filled++] = v;
      else {
        const j = Math.floor(this.random() * this.n);
        if (j < this.reservoir.length) this.reservoir[j] = v;
      }
    }
  }

  result(): QuantityStats {
    return {
      count: this.n,
      nonFinite: this.nonFinite,
      mean: this.mean,
      std: this.n > 1 ? Math.sqrt(this.m2 / (this.n - 1)) : 0,
      min: this.min,
      max: this.max,
      sample: this.reservoir.slice(0, this.filled).sort(),
    };
  }
}

export interface DataStats {
  events: number;
  quantities: Map<string, QuantityStats>;
  /** The same of the signal events alone (label > 0.5; empty without a label). */
  signalQuantities: Map<string, QuantityStats>;
  /** Sum of event weights per class (label > 0.5 is signal); all events count as background without a label. */
  signalWeight: number;
  backgroundWeight: number;
}

/**
 * One pass over `batches` collecting statistics of the named quantities, and of the values that
 * `derived` computes from a batch (by its names).
 */
export async function collectStats(
  batches: Observable<EventBatch>,
  quantities: string[],
  opts: {
    label?: string;
    weight?: string;
    seed: number;
    sampleSize?: number;
    derived?: Map<string, (batch: EventBatch) => Float64Array>;
  },
): Promise<DataStats> {
  const random = seededRandom(`stats:${opts.seed}`);
  const evaluate = new Map<string, (batch: EventBatch) => Float64Array>([
    ...quantities.map((q) => [q, (b: EventBatch) => valuesOf(b, q)] as const),
    ...(opts.derived ?? []),
  ]);
  const samplersOf = (r: () => number) =>
    new Map([...evaluate.keys()].map((q) => [q, new QuantitySampler(opts.sampleSize ?? 20_000, r)]));
  const samplers = samplersOf(random);
  // A generator of their own, so that the samples of all events do not depend on the labels.
  const signalSamplers = samplersOf(seededRandom(`stats-signal:${opts.seed}`));
  const totals = { events: 0, signalWeight: 0, backgroundWeight: 0 };
  await lastValueFrom(
    batches.pipe(
      reduce((t, batch) => {
        const label = opts.label ? eventLabels(batch, opts.label) : null;
        try {
          for (const [q, sampler] of samplers) {
            const values = evaluate.get(q)!(batch);
            sampler.add(values);
            if (label) signalSamplers.get(q)!.add(values.filter((_, i) => label[i]));
          }
        } catch (e) {
          throw new Error(`${batchLocation(batch)}: ${(e as Error).message}`);
        }
        const weight = eventWeights(batch, opts.weight);
        for (let i = 0; i < batch.length; i++) {
          const w = weight ? weight[i] : 1;
          if (label?.[i]) t.signalWeight += w;
          else t.backgroundWeight += w;
        }
        t.events += batch.length;
        return t;
      }, totals),
    ),
    { defaultValue: totals },
  );
  const results = (m: Map<string, QuantitySampler>) => new Map([...m].map(([q, s]) => [q, s.result()]));
  return { ...totals, quantities: results(samplers), signalQuantities: results(signalSamplers) };
}
