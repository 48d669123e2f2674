import { dirname, resolve } from 'node:path';
import { cutRanges } from '../eval/cutHistograms.js';
import { countSamples, type SampleCounts } from '../eval/sampleYields.js';
import type { SelectionModel } from '../model/model.js';
import { mixedSource } from '../samples/mix.js';
import type { SampleIndex } from '../training/weightSigns.js';
import { resolveSamples } from '../samples/resolve.js';
import type { CutsFile } from '../selection/cutsFile.js';
import type { EventSource } from '../sources/types.js';
import { loadPipeline } from './load.js';
import { pipelineSources } from './schema.js';
import { labelAndWeight } from './settings.js';
import { scoreCutOf } from './skimSample.js';

/** What `eval --pipeline` evaluates: the pipeline's data as one source, and with samples their yields. */
export interface PipelineEvalInput {
  kind: 'gRPC' | 'ROOT' | 'Parquet';
  source: EventSource;
  inputs: string[];
  label?: string;
  weight?: string;
  weightName?: string;
  sampleIndex?: SampleIndex;
  /** Each sample's events and weighted yields before and after the cuts (samples form only). */
  countSamples?: (cuts: CutsFile, model: SelectionModel) => Promise<SampleCounts>;
  logY?: boolean;
}

/**
 * A pipeline file's data for an evaluation: its one source with its label and weight columns, or
 * its samples mixed as training reads them (labels from their roles, weights normalised to the
 * luminosity), every event of them.
 */
export async function openPipelineSamples(path: string): Promise<PipelineEvalInput> {
  const pipeline = await loadPipeline(path);
  const samples = await resolveSamples(pipeline, dirname(resolve(path)), (line) => process.stderr.write(`${line}\n`));
  // The bytes estimate's kind of skim: in-engine when every source is Parquet.
  const all = (kind: string) => pipelineSources(pipeline).every((s) => s.kind === kind);
  const kind = all('parquet') ? 'Parquet' : all('root') ? 'ROOT' : 'gRPC';
  const inputs = samples.flatMap((s) => s.opened.files);
  const logY = pipeline.plots.logY;
  if (!pipeline.samples) return { kind, source: samples[0].opened.source, inputs, ...labelAndWeight(pipeline), logY };
  return {
    kind,
    source: mixedSource(samples, pipeline.training.seed),
    inputs,
    ...labelAndWeight(pipeline),
    countSamples: (cuts, model) =>
      countSamples({
        samples,
        cuts: cuts.cuts,
        score: scoreCutOf(cuts, model),
        ranges: cutRanges(cuts.cuts, model),
        sigmaB: pipeline.loss.sigmaB,
      }),
    logY,
  };
}
