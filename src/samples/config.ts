import { z } from 'zod';

/** Where a sample's (or a single-source pipeline's) events come from: Parquet, ROOT or a gRPC server. */
const ParquetSourceSchema = z
  .object({
    kind: z.literal('parquet'),
    /** Files, directories or globs, relative to the pipeline file. */
    paths: z.array(z.string()).min(1),
    /** Embedded dataset to write to paths[0] when it does not exist yet. */
    generate: z.enum(['toy2d', 'toy6d']).optional(),
    /** Events in the generated dataset (per class). */
    generateEvents: z.number().int().positive().optional(),
  })
  .strict();

const GrpcSourceSchema = z
  .object({
    kind: z.literal('grpc'),
    address: z.string(),
    paths: z.array(z.string()).min(1),
    token: z.string().optional(),
    tls: z.object({ ca: z.string().optional() }).strict().optional(),
  })
  .strict();

const RootSourceSchema = z
  .object({
    kind: z.literal('root'),
    paths: z.array(z.string()).min(1),
    tree: z.string().default('Events'),
    branches: z.array(z.string()).optional(),
  })
  .strict();

export const SourceSchema = z.discriminatedUnion('kind', [ParquetSourceSchema, GrpcSourceSchema, RootSourceSchema]);
export type SourceConfig = z.infer<typeof SourceSchema>;
export type ParquetSourceConfig = z.infer<typeof ParquetSourceSchema>;

/** A sample name is a folder name of the skim (skim/<sample>/...): letters, digits, '_', '-', '.', '+'. */
const SAMPLE_NAME = /^[A-Za-z0-9_+-][A-Za-z0-9_.+-]*$/;

/**
 * One sample of a `samples:` list: a dataset of one physics process, its role in training and its
 * normalisation. Event weight = xsec x luminosity x genWeight / sum(genWeight) x factors.
 */
export const SampleSchema = z
  .object({
    /** Unique among the samples; names the sample's skim folder and its rows in the report. */
    name: z.string().regex(SAMPLE_NAME, "a sample name is a folder name: letters, digits, '_', '-', '.', '+'"),
    source: SourceSchema,
    /** Signal or background: the label every event of the sample trains with. */
    role: z.enum(['signal', 'background']),
    /** The physics process, for the report and plots (samples of one process stack as one); default the name. */
    process: z.string().min(1).optional(),
    /** Cross-section in pb. */
    xsec: z.number().positive(),
    /** Sum of the generator weights over every generated event of the sample (before any selection). */
    sumGenWeights: z
      .number()
      .refine((x) => x !== 0, 'a sum of generator weights of 0 normalises nothing')
      .optional(),
    /**
     * Parquet files (folders, globs) of NanoAOD's Runs table, whose `genEventSumw` column summed gives
     * sum(genWeight); a ROOT sample reads its files' own `Runs` tree when it has one.
     */
    runs: z.array(z.string()).min(1).optional(),
    /** The generator-weight column; default `genWeight` where the sample has it; null: every event 1. */
    genWeight: z.string().nullable().optional(),
    /** Further per-event factors (scale-factor columns, or abs(col) ...) multiplied into the event weight. */
    factors: z.array(z.string()).default([]),
  })
  .strict();
export type SampleConfig = z.infer<typeof SampleSchema>;
export type SampleRole = SampleConfig['role'];
