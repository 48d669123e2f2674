import { cutRanges } from '../eval/cutHistograms.js';
import { countSamples, type SampleCounts } from '../eval/sampleYields.js';
import { mlpScore } from '../model/score.js';
import { type SamplesReport, samplesReport } from '../report/samples.js';
import type { SelectionModel } from '../model/model.js';
import type { ScoreCut } from '../operators/hardCut.js';
import { openSource } from '../samples/openSource.js';
import type { ResolvedSample } from '../samples/sample.js';
import type { CutsFile } from '../selection/cutsFile.js';
import { sampleOutputPaths, skimOutputPaths } from '../skim/outputPaths.js';
import { skimRootFiles } from '../skim/rootSkim.js';
import { runSkim, type SkimResult, sumSkims } from '../skim/runSkim.js';
import { skimStream } from '../skim/skimStream.js';

/** How every sample is skimmed: the cuts (and the score cut's classifier), what to keep, where to write. */
export interface SampleSkimOptions {
  cuts: CutsFile;
  score?: ScoreCut;
  /** The skim folder (`skim/` of a run). */
  outDir: string;
  keep?: string[];
  codec?: string;
  /** The pipeline file's folder, which a gRPC sample's TLS certificate path is relative to. */
  baseDir: string;
  signal?: AbortSignal;
}

/**
 * Skims every sample (outputs from sampleSkimOutputs, decided before any work) and, with samples,
 * counts each sample's events and weighted yields with the same cuts (samplesReport joins the two).
 */
export async function skimSamples(
  samples: ResolvedSample[],
  outputs: string[][],
  o: SampleSkimOptions & { sigmaB?: number; model?: SelectionModel },
): Promise<{ skim: SkimResult; samples?: SamplesReport; counted?: SampleCounts }> {
  const skims: SkimResult[] = [];
  for (const [k, sample] of samples.entries()) skims.push(await skimSample(sample, outputs[k], o));
  const skim = sumSkims(skims);
  if (samples[0].role === null) return { skim };
  const counted = await countSamples({
    samples,
    cuts: o.cuts.cuts,
    score: o.score,
    ranges: cutRanges(o.cuts.cuts, o.model),
    sigmaB: o.sigmaB,
  });
  return { skim, counted, samples: samplesReport(counted, new Map(samples.map((s, k) => [s.name, skims[k]]))) };
}

/** cuts.json's score cut as a skim applies it: sigmoid(MLP) of the model above the threshold. */
export function scoreCutOf(cuts: CutsFile, model: SelectionModel): ScoreCut | undefined {
  if (!cuts.score) return undefined;
  return { fn: (b) => mlpScore(model, b), threshold: cuts.score.value, columns: model.features };
}

/**
 * Each sample's skim files, relative to the skim folder, decided (and clashes refused) before any
 * work: with samples `<sample>/<the input's path below its input folder>`, a gRPC sample's files by
 * their paths below the server's data root; the single-source form as a plain skim (a gRPC source
 * then writes one file, named after the pipeline: none listed here).
 */
export function sampleSkimOutputs(samples: ResolvedSample[]): string[][] {
  const inputs = (s: ResolvedSample) =>
    s.config.kind === 'grpc' ? s.info.files.map((f) => ({ path: f.path, root: '.', searched: false })) : s.opened.found;
  if (samples.length === 1 && samples[0].role === null) return [skimOutputPaths(samples[0].opened.found)];
  return sampleOutputPaths(samples.map((s) => ({ name: s.name, found: inputs(s) })));
}

/**
 * Hard-cut skim of a sample's inputs into `outputs` (below o.outDir), one file each: in-engine for
 * Parquet files, streaming otherwise; a gRPC sample one stream per server file.
 */
export async function skimSample(sample: ResolvedSample, outputs: string[], o: SampleSkimOptions): Promise<SkimResult> {
  const rectangular: CutsFile = { cuts: o.cuts.cuts, score: null };
  const options = { cuts: rectangular, outDir: o.outDir, keep: o.keep, codec: o.codec, score: o.score };
  const { config, opened } = sample;
  if (opened.footers)
    return runSkim({ inputs: opened.files, outputs, footers: await opened.footers(), ...options, signal: o.signal });
  if (config.kind === 'root') {
    const root = { tree: config.tree, branches: config.branches };
    return skimRootFiles({ inputs: opened.files, outputs, root, ...options, signal: o.signal });
  }
  if (outputs.length === 0)
    return skimStream({ source: opened.source, inputs: opened.files, name: sample.name, ...options });
  const skims: SkimResult[] = [];
  for (const [k, file] of sample.info.files.entries()) {
    const one = await openSource({ ...config, paths: [file.path] }, o.baseDir);
    skims.push(
      await skimStream({ source: one.source, inputs: one.files, name: sample.name, output: outputs[k], ...options }),
    );
  }
  return sumSkims(skims);
}
