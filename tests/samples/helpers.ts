import { join } from 'node:path';
import { generateSamples, LUMINOSITY } from '../../src/datasets/nanoSamples.js';
import type { SampleConfig } from '../../src/samples/config.js';
import type { DataConfig } from '../../src/samples/resolve.js';
import { cutsToSql, type HardCut } from '../../src/selection/cutsFile.js';
import { sql } from '../parquet/helpers.js';

/** The generated multi-sample example, small: 4 samples x 2 files (nano_1, nano_2 in every sample). */
export const GEN = { files: 2, eventsPerFile: 1500, seed: 11 };
export const LUMI_PB = LUMINOSITY * 1000;
/** Cuts of the kind a run learns: MET and the jet multiplicity. */
export const CUTS: HardCut[] = [
  { column: 'MET_pt', op: '>', value: 35 },
  { column: 'count(Jet_pt)', op: 'between', low: 2.5, high: 9.5 },
];

/**
 * The samples of the example, each normalised another way: ttH and ttbar from their Runs tables,
 * WJets by a given sum of weights with an extra per-event factor, QCD by summing its genWeight.
 */
export function exampleSamples(dir: string): SampleConfig[] {
  const source = (name: string) => ({ kind: 'parquet' as const, paths: [join(dir, name)] });
  return [
    {
      name: 'ttH',
      source: source('ttH'),
      role: 'signal',
      xsec: 0.5071,
      runs: [join(dir, 'ttH.runs.parquet')],
      factors: [],
    },
    {
      name: 'ttbar',
      source: source('ttbar'),
      role: 'background',
      xsec: 831.76,
      runs: [join(dir, 'ttbar.runs.parquet')],
      factors: [],
    },
    {
      name: 'WJets',
      source: source('WJets'),
      role: 'background',
      xsec: 61526.7,
      sumGenWeights: 2345.5,
      factors: ['abs(MET_phi)'],
    },
    {
      name: 'QCD',
      process: 'QCD_HT500to700',
      source: source('QCD_HT500to700'),
      role: 'background',
      xsec: 31630,
      factors: [],
    },
  ];
}

export async function writeExample(dir: string): Promise<DataConfig> {
  await generateSamples(dir, GEN);
  return { name: 'example', samples: exampleSamples(dir), luminosity: LUMI_PB };
}

/** DuckDB's own figures of a sample: events, sigma x L / sum(w_gen) x sum(w_gen x factors) (and of w^2), all and passing the cuts. */
export async function duckdbYields(
  s: SampleConfig,
  cuts: HardCut[],
): Promise<{ n: number; nk: number; y: number; yk: number; y2: number; y2k: number }> {
  const files = `read_parquet('${(s.source as { paths: string[] }).paths[0]}/*.parquet')`;
  let sumw: number;
  if (s.sumGenWeights !== undefined) sumw = s.sumGenWeights;
  else if (s.runs)
    [{ sumw }] = (await sql(`SELECT sum(genEventSumw) AS sumw FROM read_parquet('${s.runs[0]}')`)) as {
      sumw: number;
    }[];
  else [{ sumw }] = (await sql(`SELECT sum(genWeight::DOUBLE) AS sumw FROM ${files}`)) as { sumw: number }[];
  const factors = s.factors.map((f) => f.replace(/^abs\((\w+)\)$/, 'abs($1::DOUBLE)'));
  const w = [`${s.xsec}::DOUBLE * ${LUMI_PB}::DOUBLE / ${sumw}::DOUBLE`, 'genWeight::DOUBLE', ...factors].join(' * ');
  const where = cutsToSql(cuts);
  const [r] = await sql(
    `SELECT count(*)::DOUBLE AS n, count(*) FILTER (WHERE ${where})::DOUBLE AS nk,
       sum(${w}) AS y, sum(${w}) FILTER (WHERE ${where}) AS yk,
       sum((${w}) ^ 2) AS y2, sum((${w}) ^ 2) FILTER (WHERE ${where}) AS y2k FROM ${files}`,
  );
  return r as { n: number; nk: number; y: number; yk: number; y2: number; y2k: number };
}
