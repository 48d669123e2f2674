import { isAbsolute, resolve } from 'node:path';
import { lastValueFrom, reduce } from 'rxjs';
import type { EventSource } from '../sources/types.js';
import { expandInputs } from '../sources/expandInputs.js';
import { parquetSource } from '../sources/parquet.js';
import { rootSource } from '../sources/rootSource.js';
import { rootTreeNames } from '../sources/rootTree.js';
import { eventWeights } from '../training/eventWeights.js';
import type { SampleConfig, SourceConfig } from './config.js';
import { openSource } from './openSource.js';
import type { Normalisation, ResolvedSample, SumOfWeightsFrom } from './sample.js';

/** What a pipeline says about its data: one source with a label column, or samples and a luminosity. */
export interface DataConfig {
  name: string;
  source?: SourceConfig;
  label?: string;
  weight?: string;
  samples?: SampleConfig[];
  luminosity?: number;
}

/**
 * NanoAOD's Runs branches (a `_` suffix before NanoAOD v9): the sum of generator weights, the
 * denominator of a weighted sample, and the number of generated events, that of a sample read
 * without generator weights (every event 1).
 */
const RUNS_SUMS = {
  'Runs.genEventSumw': ['genEventSumw', 'genEventSumw_'],
  'Runs.genEventCount': ['genEventCount', 'genEventCount_'],
} as const;

/**
 * Opens a pipeline's samples (the single-source form as one sample) and normalises them: the sum
 * of generator weights is the sample's `sumGenWeights`, else its Runs table's genEventSumw summed
 * (`runs:` Parquet files, or each ROOT file's `Runs` tree; genEventCount for a sample without
 * generator weights), else the generator-weight column summed over every event of the sample (one
 * extra pass, said through `log`).
 */
export async function resolveSamples(
  data: DataConfig,
  baseDir: string,
  log: (line: string) => void = () => {},
): Promise<ResolvedSample[]> {
  if (!data.samples) {
    const config = data.source!;
    const opened = await openSource(config, baseDir);
    const info = await opened.source.describe();
    const factors = data.weight ? [data.weight] : [];
    const single = { name: data.name, process: data.name, role: null, label: data.label, config, opened, info };
    return [{ ...single, normalisation: null, genWeight: null, factors }];
  }
  const resolved: ResolvedSample[] = [];
  for (const s of data.samples) {
    const opened = await openSource(s.source, baseDir);
    const info = await opened.source.describe();
    const has = (c: string) => info.schema.some((f) => f.name === c);
    const genWeight = s.genWeight === undefined ? (has('genWeight') ? 'genWeight' : null) : s.genWeight;
    const sample = { name: s.name, process: s.process ?? s.name, role: s.role, config: s.source, opened, info };
    const partial: ResolvedSample = { ...sample, normalisation: null, genWeight, factors: s.factors };
    const sum = await sumOfGenWeights(s, partial, baseDir, log);
    const luminosity = data.luminosity!;
    const normalisation: Normalisation = {
      xsec: s.xsec,
      luminosity,
      ...sum,
      factor: (s.xsec * luminosity) / sum.sumGenWeights,
    };
    resolved.push({ ...partial, normalisation });
  }
  return resolved;
}

async function sumOfGenWeights(
  s: SampleConfig,
  sample: ResolvedSample,
  baseDir: string,
  log: (line: string) => void,
): Promise<{ sumGenWeights: number; from: SumOfWeightsFrom }> {
  const checked = (sumGenWeights: number, from: SumOfWeightsFrom, where: string) => {
    if (!Number.isFinite(sumGenWeights) || sumGenWeights === 0)
      throw new Error(
        `sample '${s.name}': the sum of generator weights (${where}) is ${sumGenWeights}; it must be finite and not 0`,
      );
    return { sumGenWeights, from };
  };
  if (s.sumGenWeights !== undefined) return { sumGenWeights: s.sumGenWeights, from: 'given' };
  const sumFrom: keyof typeof RUNS_SUMS = sample.genWeight ? 'Runs.genEventSumw' : 'Runs.genEventCount';
  if (s.runs) {
    const found = await expandInputs(s.runs.map((p) => (isAbsolute(p) ? p : resolve(baseDir, p))));
    const files = found.map((f) => f.path);
    const runs = parquetSource(files);
    const column = (await runsColumn(runs, sumFrom)) ?? noRunsColumn(s.name, 'table', files[0], sumFrom);
    return checked(await sumColumn(runs, column), sumFrom, `${column} of ${files.join(', ')}`);
  }
  if (s.source.kind === 'root') {
    const files = sample.opened.files;
    const withRuns = await Promise.all(files.map(async (f) => (await rootTreeNames(f)).includes('Runs')));
    if (withRuns.some(Boolean)) {
      const lacking = files.filter((_, k) => !withRuns[k]);
      if (lacking.length)
        throw new Error(
          `sample '${s.name}': ${lacking[0]} has no Runs tree, but other files of the sample have one; ` +
            'give the sample its sumGenWeights',
        );
      const runs = rootSource(files, { tree: 'Runs' });
      const column = await runsColumn(runs, sumFrom);
      if (column) return checked(await sumColumn(runs, column), sumFrom, `Runs tree's ${column}`);
      // Collision data: a Runs tree of run numbers only, and no generator weight to sum.
      if (sample.genWeight) noRunsColumn(s.name, 'tree', files[0], sumFrom);
    }
  }
  const genWeight = sample.genWeight;
  if (!genWeight) return checked(sample.info.rows, 'event count', 'its number of events');
  log(
    `sample '${s.name}': no sumGenWeights and no Runs table: summing '${genWeight}' over its ` +
      `${sample.info.rows} events (one extra pass)`,
  );
  return checked(await sumColumn(sample.opened.source, genWeight), 'summed column', `'${genWeight}' summed`);
}

/** The Runs table's column of a sum (its NanoAOD v9 or older name), or undefined. */
async function runsColumn(runs: EventSource, sum: keyof typeof RUNS_SUMS): Promise<string | undefined> {
  const info = await runs.describe();
  return RUNS_SUMS[sum].find((c) => info.schema.some((f) => f.name === c));
}

function noRunsColumn(sample: string, what: 'table' | 'tree', file: string, sum: keyof typeof RUNS_SUMS): never {
  throw new Error(
    `sample '${sample}': the Runs ${what} of ${file} has no ${RUNS_SUMS[sum].join(' or ')}; ` +
      'give the sample its sumGenWeights',
  );
}

/** A column summed over every event of a source (in float64; NaN or infinite values are errors naming where). */
async function sumColumn(source: EventSource, column: string): Promise<number> {
  return lastValueFrom(
    source.batches({ columns: [column] }).pipe(
      reduce((sum, batch) => {
        const w = eventWeights(batch, column)!;
        for (let i = 0; i < w.length; i++) sum += w[i];
        return sum;
      }, 0),
    ),
    { defaultValue: 0 },
  );
}
