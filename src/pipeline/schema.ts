import { z } from 'zod';
import { SampleSchema, SourceSchema, type SourceConfig } from '../samples/config.js';

export { SourceSchema, type SourceConfig };
import { hasParameter, type ObjectTemplate, parseObjectTemplate } from '../selection/objectCut.js';

/**
 * The pipeline file (YAML): where events come from (one `source:` whose `label:` column tells signal
 * from background, or `samples:`), which cuts to learn, the classifier, the loss with its size term,
 * the training schedule and the skim to write.
 */
export const CutConfigSchema = z
  .object({
    /**
     * A column or expression (README, Expressions): x, abs(eta), count(Jet_pt > 30), Jet_pt[1]; or
     * an object cut with a learned element threshold $c: count(Jet_pt > $c), sum(Jet_pt[Jet_pt > $c]).
     */
    column: z.string(),
    /** '>=', '<=', '==': an object cut's count with a fixed `value`. */
    op: z.enum(['>', '<', 'between', '>=', '<=', '==']),
    /** Relaxation of the step: sigmoid(slope*(x-c)) or the erf equivalent. */
    form: z.enum(['sigmoid', 'erf']).default('sigmoid'),
    /** Starting threshold; default: a data quantile at which the cut keeps nearly everything. */
    init: z.number().optional(),
    initLow: z.number().optional(),
    initHigh: z.number().optional(),
    /** Slope in units of 1/(column unit); default: scaled to the column's spread. */
    slope: z.number().positive().optional(),
    /** An object cut's fixed threshold on its count or sum (instead of a learned one from init). */
    value: z.number().optional(),
    /** An object cut's element threshold $c: where it starts, and its slope (default 4 / the entries' spread). */
    element: z.object({ init: z.number(), slope: z.number().positive().optional() }).strict().optional(),
  })
  .strict();

export const PipelineSchema = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    /** The single-source form: one dataset, its events told apart by the label column. */
    source: SourceSchema.optional(),
    /** Truth label column (1 = signal, 0 = background) of the single-source form. */
    label: z.string().optional(),
    /** Per-event weight column of the single-source form. */
    weight: z.string().optional(),
    /** The samples form: datasets of physics processes, each signal or background, normalised to luminosity. */
    samples: z.array(SampleSchema).min(1).optional(),
    /** Integrated luminosity in pb^-1 (samples form). */
    luminosity: z.number().positive().optional(),
    /** Write the embedded multi-sample NanoAOD-like dataset into `folder` when it has no samples.yaml yet. */
    generate: z
      .object({
        dataset: z.literal('nano-samples'),
        /** Relative to the pipeline file. */
        folder: z.string(),
        files: z.number().int().positive().default(4),
        eventsPerFile: z.number().int().positive().default(25_000),
        seed: z.number().int().default(1),
      })
      .strict()
      .optional(),
    /** A fixed condition events must pass, before training and in the skim (the cut flow's first cut). */
    preselection: z.string().optional(),
    /** Classifier inputs (none for a cuts-only model). */
    features: z.array(z.string()).default([]),
    cuts: z.array(CutConfigSchema).default([]),
    model: z
      .object({
        hidden: z.array(z.number().int().positive()).default([15, 30, 15]),
        /** 'cuts-x-mlp' (default), 'mlp' (no cuts) or 'cuts' (cuts only). */
        kind: z.enum(['cuts-x-mlp', 'mlp', 'cuts']).default('cuts-x-mlp'),
      })
      .strict()
      .default({ hidden: [15, 30, 15], kind: 'cuts-x-mlp' }),
    training: z
      .object({
        /** Default: 30, or more to take at least 500 optimiser steps (see src/training/trainer.ts). */
        epochs: z.number().int().positive().optional(),
        batchSize: z.number().int().positive().default(4096),
        /** Adam's; default 0.01, times sqrt(batchSize / 4096) above 4096 (see src/training/trainer.ts). */
        learningRate: z.number().positive().optional(),
        validationFraction: z.number().min(0).max(0.9).default(0.2),
        seed: z.number().int().default(42),
        shuffleBuffer: z.number().int().nonnegative().default(65536),
        /** Slope annealing: multiply every cut's slope by a factor that ramps from start to end. */
        slopeSchedule: z
          .object({
            start: z.number().positive(),
            end: z.number().positive(),
            kind: z.enum(['geometric', 'cosine', 'constant']).default('geometric'),
          })
          .strict()
          .optional(),
        /** Re-weight classes so that signal and background have equal total weight. */
        balanceClasses: z.boolean().default(true),
        /** Threads of the fused kernel's step; default: the available cores (at most 8) from 2^18 training events. */
        threads: z.number().int().positive().optional(),
      })
      .strict()
      .default({
        batchSize: 4096,
        validationFraction: 0.2,
        seed: 42,
        shuffleBuffer: 65536,
        balanceClasses: true,
      }),
    loss: z
      .object({
        /** 'signal-efficiency': maximise the soft signal efficiency (pair it with a size target). */
        kind: z.enum(['bce', 'mse', 's-over-sqrt-b', 'asimov', 'signal-efficiency']).default('bce'),
        /**
         * Cached-data-size term: lambda * E[kept bytes] / bytes in; or, with a target, the constraint
         * kept <= target, whose multiplier the trainer adapts, starting at lambdaStart ?? lambda ?? 1.
         */
        size: z
          .object({
            lambda: z.number().nonnegative().default(0),
            /** Ramp lambda geometrically from lambdaStart (first epoch) to lambda (last); default: constant. With a target: the multiplier's start. */
            lambdaStart: z.number().positive().optional(),
            targetKeptFraction: z.number().min(0).max(1).optional(),
            targetBytes: z.number().positive().optional(),
            /** Events whose bytes count: all, or background only (the kept background fraction). */
            over: z.enum(['all', 'background']).default('all'),
          })
          .strict()
          .default({ lambda: 0, over: 'all' }),
        /** For significance losses: expected yields = weighted soft counts * xsec * lumi / generated. */
        signalYield: z.number().positive().optional(),
        backgroundYield: z.number().positive().optional(),
        sigmaB: z.number().nonnegative().optional(),
      })
      .strict()
      .default({ kind: 'bce', size: { lambda: 0, over: 'all' } }),
    /**
     * Column selection: learn which candidate columns the classifier (and so the skim) keeps, each
     * with a hard-concrete gate (src/model/columnGates.ts). The skim then writes the pinned columns
     * (skim.keep) and the kept candidates only; every other column is dropped.
     */
    columns: z
      .object({
        select: z.boolean().default(false),
        /** Columns (patterns such as Muon_* allowed) with a gate each; default: the columns the features read. */
        candidates: z.array(z.string()).optional(),
        /** Also keep the columns the learned cuts read. */
        keepCutColumns: z.boolean().default(false),
        gates: z
          .object({
            /** P(open) each gate starts at. */
            init: z.number().gt(0).lt(1).default(0.9),
            /** The relaxation's temperature beta (2/3, Louizos et al.), annealed geometrically to temperatureEnd. */
            temperature: z
              .number()
              .positive()
              .default(2 / 3),
            temperatureEnd: z.number().positive().optional(),
          })
          .strict()
          .default({ init: 0.9, temperature: 2 / 3 }),
      })
      .strict()
      .optional(),
    skim: z
      .object({
        /** Also cut on the classifier score (the skim then needs the model). */
        scoreCut: z.number().min(0).max(1).nullable().default(null),
        /** Columns to write (patterns such as Muon_* allowed); default all. With columns.select: the pinned columns. */
        keep: z.array(z.string()).optional(),
        codec: z.enum(['snappy', 'zstd', 'gzip', 'uncompressed']).optional(),
      })
      .strict()
      .default({ scoreCut: null }),
    /** The stacked plots of the samples' weighted yields: y on a log scale. */
    plots: z
      .object({ logY: z.boolean().default(false) })
      .strict()
      .default({ logY: false }),
  })
  .strict()
  .superRefine((p, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const kind = p.model.kind;
    if (p.samples) {
      if (p.source) issue(['source'], "give 'source' (one dataset with a label column) or 'samples', not both");
      if (p.luminosity === undefined) issue(['luminosity'], 'samples are normalised to a luminosity: give it in pb^-1');
      for (const key of ['label', 'weight'] as const)
        if (p[key] !== undefined)
          issue([key], `with samples, each sample's role is its label and its normalisation its weight: drop '${key}'`);
      const seen = new Set<string>();
      p.samples.forEach((s, i) => {
        if (seen.has(s.name)) issue(['samples', i, 'name'], `two samples are named '${s.name}'`);
        seen.add(s.name);
        if (s.sumGenWeights !== undefined && s.runs !== undefined)
          issue(['samples', i], 'give sumGenWeights or runs, not both');
      });
      for (const role of ['signal', 'background'] as const)
        if (!p.samples.some((s) => s.role === role))
          issue(['samples'], `training needs a ${role} sample: none has role '${role}'`);
    } else {
      if (!p.source) issue(['source'], "say where events come from: 'source' (with a 'label' column) or 'samples'");
      if (p.luminosity !== undefined) issue(['luminosity'], "luminosity normalises 'samples'; this pipeline has none");
    }
    if (kind !== 'cuts' && p.features.length === 0)
      issue(['features'], `model.kind '${kind}' has a classifier: list its input features`);
    if (kind === 'cuts' && p.cuts.length === 0)
      issue(['cuts'], "model.kind 'cuts' learns cuts only: list at least one");
    if (kind === 'cuts' && p.skim.scoreCut !== null)
      issue(['skim', 'scoreCut'], "a score cut needs a classifier: model.kind 'cuts' has none");
    p.cuts.forEach((c, i) => {
      objectCutIssues(c).forEach(([key, message]) => issue(key ? ['cuts', i, key] : ['cuts', i], message));
      if (c.op === 'between' && c.init !== undefined)
        issue(['cuts', i, 'init'], "a 'between' cut starts from initLow and initHigh, not init");
      if (c.op !== 'between' && (c.initLow !== undefined || c.initHigh !== undefined))
        issue(['cuts', i], `initLow and initHigh are for 'between' cuts; a '${c.op}' cut starts from init`);
      if (c.initLow !== undefined && c.initHigh !== undefined && !(c.initLow < c.initHigh))
        issue(['cuts', i, 'initLow'], `initLow (${c.initLow}) must be below initHigh (${c.initHigh})`);
    });
    if (p.columns?.select && kind === 'cuts')
      issue(['columns', 'select'], "column gates sit on the classifier's inputs: model.kind 'cuts' has none");
    const size = p.loss.size;
    if (size.targetKeptFraction !== undefined && size.targetBytes !== undefined)
      issue(['loss', 'size'], 'give targetKeptFraction or targetBytes, not both');
  });

/** What is wrong with a cut's object-cut keys (column, element, value and op), as [key, message]. */
function objectCutIssues(c: z.infer<typeof CutConfigSchema>): [string | null, string][] {
  if (!hasParameter(c.column)) {
    if (c.element) return [['element', "'element' is for an object cut, whose column has a $parameter"]];
    if (c.value !== undefined)
      return [['value', "a fixed 'value' is for an object cut's count or sum; others are learned"]];
    if (['>=', '<=', '=='].includes(c.op))
      return [
        ['op', `op '${c.op}' is for an object cut's count with a fixed value; a learned cut is '>', '<' or 'between'`],
      ];
    return [];
  }
  let t: ObjectTemplate;
  try {
    t = parseObjectTemplate(c.column);
  } catch (e) {
    return [['column', (e as Error).message]];
  }
  const issues: [string | null, string][] = [];
  if (!c.element)
    issues.push([null, `object cut '${c.column}': give its element threshold's start (element: {init: ...})`]);
  const learned = c.init !== undefined || c.initLow !== undefined || c.initHigh !== undefined;
  if (learned && c.value !== undefined)
    issues.push(['value', 'give value (a fixed cut) or init (a learned one), not both']);
  if (['>=', '<=', '=='].includes(c.op) && (t.reduce !== 'count' || c.value === undefined))
    issues.push(['op', `op '${c.op}' is for a count with a fixed value; a sum is cut with '>' or '<'`]);
  if (t.reduce === 'count' && c.value !== undefined && !Number.isInteger(c.value))
    issues.push(['value', `a count is cut at an integer, not ${c.value}`]);
  if (c.op === 'between' && c.value !== undefined) issues.push(['value', "a fixed count cut is '>=', '<=' or '=='"]);
  return issues;
}

export type Pipeline = z.infer<typeof PipelineSchema>;

/** The sources of a pipeline: its one source, or each sample's. */
export function pipelineSources(p: Pipeline): SourceConfig[] {
  return p.samples ? p.samples.map((s) => s.source) : [p.source!];
}

/** A pipeline's skim runs inside DuckDB (Parquet files, no score cut), which keeps every column; else it streams. */
export function skimsInEngine(p: Pipeline): boolean {
  return pipelineSources(p).every((s) => s.kind === 'parquet') && p.skim.scoreCut === null;
}
