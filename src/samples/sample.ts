import type { EventBatch } from '../batch/batch.js';
import { columnsOf } from '../selection/expr/index.js';
import { closest } from '../util/closest.js';
import { columnPattern } from '../util/columnPattern.js';
import type { DatasetInfo } from '../sources/types.js';
import { eventLabels, eventWeights } from '../training/eventWeights.js';
import type { SampleRole, SourceConfig } from './config.js';
import type { OpenedSource } from './openSource.js';

/** Where a sample's sum of generator weights came from. */
export type SumOfWeightsFrom =
  /** The sample's `sumGenWeights` key. */
  | 'given'
  /** NanoAOD's Runs table (`runs:` Parquet files, or the ROOT files' `Runs` tree), summed over its rows. */
  | 'Runs.genEventSumw'
  /** The same table's number of generated events, for a sample read without generator weights. */
  | 'Runs.genEventCount'
  /** The generator-weight column summed over every event of the sample (one extra pass). */
  | 'summed column'
  /** No generator weight: every event weighs 1, and the sum is the number of events. */
  | 'event count';

/** How a sample's events are normalised to the luminosity. */
export interface Normalisation {
  /** pb */
  xsec: number;
  /** pb^-1 */
  luminosity: number;
  sumGenWeights: number;
  from: SumOfWeightsFrom;
  /** xsec x luminosity / sumGenWeights: an event's weight is this x genWeight x factors. */
  factor: number;
}

/**
 * A dataset as the pipeline trains, skims and reports it: one sample of a `samples:` list, or the
 * whole dataset of the single-source form (`source:` + `label:` + `weight:`), which is one sample
 * whose label column tells signal from background event by event and whose weight column is its
 * one factor (no normalisation).
 */
export interface ResolvedSample {
  /** The sample's name (its skim folder); the pipeline's name in the single-source form. */
  name: string;
  /** Physics process, for the report and plots; default the name. */
  process: string;
  /** Every event's class; null in the single-source form, where `label` decides per event. */
  role: SampleRole | null;
  /** The label column of the single-source form. */
  label?: string;
  config: SourceConfig;
  opened: OpenedSource;
  info: DatasetInfo;
  /** null in the single-source form (its weight, if any, is `factors[0]`). */
  normalisation: Normalisation | null;
  /** The generator-weight column, or null (every event 1). */
  genWeight: string | null;
  /** Further per-event factors: columns or quantities (abs(col)). */
  factors: string[];
}

/** The quantities a sample reads to label and weigh its events (not the features or cuts). */
export function sampleColumns(s: ResolvedSample): string[] {
  return [...(s.label ? [s.label] : []), ...(s.genWeight ? [s.genWeight] : []), ...s.factors];
}

/** Whether a sample's events carry weights (else each weighs 1 and `sampleEvents` gives null). */
export function isWeighted(s: ResolvedSample): boolean {
  return s.normalisation !== null || s.genWeight !== null || s.factors.length > 0;
}

/**
 * The labels (1 signal, 0 background) and event weights of a batch of the sample:
 * normalisation factor x genWeight x factors, signed (null when the sample is unweighted). A label
 * that is not 0/1 and a weight that is NaN or infinite are errors naming the file and column
 * (eventLabels, eventWeights).
 */
export function sampleEvents(s: ResolvedSample, batch: EventBatch): { label: Uint8Array; weight: Float64Array | null } {
  const label = s.label ? eventLabels(batch, s.label) : new Uint8Array(batch.length).fill(s.role === 'signal' ? 1 : 0);
  if (!isWeighted(s)) return { label, weight: null };
  const weight = new Float64Array(batch.length).fill(s.normalisation?.factor ?? 1);
  for (const column of [...(s.genWeight ? [s.genWeight] : []), ...s.factors]) {
    const w = eventWeights(batch, column)!;
    for (let i = 0; i < weight.length; i++) weight[i] *= w[i];
  }
  return { label, weight };
}

/** What the pipeline reads of every sample besides its labels and weights. */
export interface SampleNeeds {
  features: string[];
  cuts: string[];
  /** The skim's keep list (a string or struct column the source does not read counts too). */
  keep?: string[];
}

/**
 * Before training: every column the pipeline needs is in every sample (else an error naming the
 * sample and the column), and no sample's generator weight or factor is also a feature or cut
 * (training would read the answer from the question).
 */
export function checkSamples(samples: ResolvedSample[], needs: SampleNeeds): void {
  const inputs = [
    ...needs.features.map((q) => ({ q, as: 'a feature' })),
    ...needs.cuts.map((q) => ({ q, as: 'a cut variable' })),
  ];
  for (const s of samples) {
    const weights = [
      ...(s.genWeight ? [{ q: s.genWeight, as: 'its generator weight' }] : []),
      ...s.factors.map((q) => ({ q, as: 'a weight factor' })),
    ];
    // Patterns (`Muon_*`) are matched against each sample's columns by the skim's own check.
    const exact = (needs.keep ?? []).filter((q) => !columnPattern(q));
    const keep = exact.map((q) => ({ q, as: 'kept by the skim' }));
    const names = [...s.info.schema.map((f) => f.name), ...(s.info.unsupported ?? []).map((u) => u.name)];
    const read = ({ q, as }: { q: string; as: string }) =>
      columnsOf(s.info.schema, q).map((column) => ({ column, q, as }));
    for (const { column, as } of [...inputs, ...weights, ...keep].flatMap(read)) {
      if (names.includes(column)) continue;
      const hint = closest(column, names);
      throw new Error(
        `sample '${s.name}' has no column '${column}' (${as})${hint ? `; did you mean '${hint}'?` : ''} ` +
          `(its inputs: ${s.opened.files.slice(0, 2).join(', ')}${s.opened.files.length > 2 ? ', ...' : ''})`,
      );
    }
    const inputColumns = inputs.flatMap(read);
    for (const w of weights) {
      const same = read(w).flatMap((c) => inputColumns.filter((i) => i.column === c.column))[0];
      if (same)
        throw new Error(
          `sample '${s.name}': '${same.column}' is ${w.as} and also ${same.as} ('${same.q}'); take it out of the ` +
            `${same.as === 'a feature' ? 'features' : 'cuts'}`,
        );
    }
  }
}
