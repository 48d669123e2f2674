import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { EventBatch } from '../batch/batch.js';
import { compareSql, compileExpr, exprOf, sqlNumber, toSql, valuesOf } from './expr/index.js';

/**
 * cuts.json: hard cuts that any reader can apply. NaN or null in a cut variable fails the cut
 * (the event is cut, and counted as cut). This zod schema is the one definition of the format:
 * schemas/cuts.schema.json is generated from it (scripts/gen-cuts-schema.ts; a test keeps the two
 * equal). Version 1 (files without `version`) had the ops '>', '<' and 'between'; version 2 adds
 * '>=', '<=' and '==' (integer cuts) and the `version` field.
 */
export const CUTS_FILE_VERSION = 2;

/** Ops of a cut with one threshold; '>=', '<=', '==' are what a cut on an integer variable is written as. */
export const THRESHOLD_OPS = ['>', '<', '>=', '<=', '=='] as const;
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];

const column = z.string().describe('cut variable: a column or a derived quantity (abs(eta), count(jets), ...)');
const HardCutSchema = z.discriminatedUnion('op', [
  z.object({ column, op: z.enum(THRESHOLD_OPS), value: z.number() }).strict(),
  z
    .object({ column, op: z.literal('between'), low: z.number(), high: z.number() })
    .strict()
    .describe('keeps low < x < high'),
]);

export const CutsFileSchema = z
  .object({
    version: z
      .number()
      .int()
      .min(1)
      .max(CUTS_FILE_VERSION)
      .optional()
      .describe('format version; a file without one is version 1'),
    cuts: z.array(HardCutSchema).describe('every cut must pass (AND)'),
    score: z
      .object({ op: z.literal('>'), value: z.number() })
      .strict()
      .nullable()
      .default(null)
      .describe("cut on the classifier's score (needs the model)"),
  })
  .strict()
  .describe('diffskim cuts.json: hard cuts that select the events the skim keeps');

/** The schema as JSON Schema (draft 2020-12): what schemas/cuts.schema.json holds. */
export function cutsFileJsonSchema(): Record<string, unknown> {
  return { title: 'diffskim cuts.json', ...z.toJSONSchema(CutsFileSchema, { io: 'input' }) };
}

export type HardCut = z.infer<typeof HardCutSchema>;
export type CutsFile = z.infer<typeof CutsFileSchema>;

/** Thrown for a cuts file that cannot be read or does not follow the schema (names the file and the cut). */
export class CutsFileError extends Error {}

export async function readCutsFile(path: string): Promise<CutsFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new CutsFileError(`${path}: cannot read cuts file: ${(e as Error).message}`);
  }
  return parseCutsFile(json, path);
}

/** A cuts file's JSON checked against the schema; `source` names it in errors. */
export function parseCutsFile(json: unknown, source: string): CutsFile {
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > CUTS_FILE_VERSION)
    throw new CutsFileError(
      `${source}: cuts file version ${version} is newer than this diffskim reads (up to ${CUTS_FILE_VERSION}); ` +
        'update diffskim',
    );
  const parsed = CutsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CutsFileError(`${source}: ${issuePath(issue.path) || 'the file'}: ${issue.message}`);
  }
  parsed.data.cuts.forEach((c, i) => {
    try {
      compileExpr(c.column);
    } catch (e) {
      throw new CutsFileError(`${source}: cuts[${i}].column: ${(e as Error).message}`);
    }
  });
  return parsed.data;
}

/** `cuts[2].op` for the path ['cuts', 2, 'op']. */
function issuePath(path: PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

/**
 * The cut on an integer-valued variable (a count, a flag, an integer column) written with
 * integer bounds, selecting exactly the same events: x > 1.37 is x >= 2, x < 3 is x <= 2, and
 * 0.4 < x < 1.6 is x == 1 (a 'between' spanning several integers keeps its op, its edges moved to
 * the integers outside: 0.4 < x < 3.2 is 0 < x < 4). Infinite thresholds stay as they are.
 */
export function integerCut(cut: HardCut): HardCut {
  const { column } = cut;
  // The smallest integer above c, and the largest below it.
  const above = (c: number) => Math.floor(c) + 1;
  const below = (c: number) => Math.ceil(c) - 1;
  switch (cut.op) {
    case '>':
      return Number.isFinite(cut.value) ? { column, op: '>=', value: above(cut.value) } : cut;
    case '<':
      return Number.isFinite(cut.value) ? { column, op: '<=', value: below(cut.value) } : cut;
    case 'between': {
      const [lo, hi] = [above(cut.low), below(cut.high)];
      if (lo === hi) return { column, op: '==', value: lo };
      return { column, op: 'between', low: finiteOr(lo - 1, cut.low), high: finiteOr(hi + 1, cut.high) };
    }
    default:
      return cut;
  }
}

function finiteOr(v: number, otherwise: number): number {
  return Number.isFinite(v) ? v : otherwise;
}

/**
 * A fixed preselection (a condition: 1 or 0 per event) as the hard cut that cuts.json, the skim and
 * the cut flow apply before the learned ones.
 */
export function preselectionCut(condition: string): HardCut {
  return { column: condition, op: '>', value: 0.5 };
}

/** Columns a cuts file reads. */
export function cutColumns(cuts: CutsFile): string[] {
  return [...new Set(cuts.cuts.flatMap((c) => compileExpr(c.column).columns))];
}

/** Whether each event passes every cut (1) or not (0). NaN fails. */
export function passMask(batch: EventBatch, cuts: HardCut[]): Uint8Array {
  const mask = new Uint8Array(batch.length).fill(1);
  for (const cut of cuts) {
    const x = valuesOf(batch, cut.column);
    if (cut.op === 'between') {
      thresholdMask(x, '>', cut.low, mask);
      thresholdMask(x, '<', cut.high, mask);
    } else thresholdMask(x, cut.op, cut.value, mask);
  }
  return mask;
}

/** mask[i] &= (x[i] op v); comparisons with NaN are false, so NaN fails every cut. One loop per op, for speed. */
function thresholdMask(x: Float64Array, op: ThresholdOp, v: number, mask: Uint8Array): void {
  const n = x.length;
  if (op === '>') for (let i = 0; i < n; i++) mask[i] &= x[i] > v ? 1 : 0;
  else if (op === '<') for (let i = 0; i < n; i++) mask[i] &= x[i] < v ? 1 : 0;
  else if (op === '>=') for (let i = 0; i < n; i++) mask[i] &= x[i] >= v ? 1 : 0;
  else if (op === '<=') for (let i = 0; i < n; i++) mask[i] &= x[i] <= v ? 1 : 0;
  else for (let i = 0; i < n; i++) mask[i] &= x[i] === v ? 1 : 0;
}

/**
 * SQL WHERE clause equal to passMask: the cut variable's SQL twin (a DOUBLE), compared as the
 * batch compares (missing fails). `columnSql` gives a column's SQL where it is not the quoted name
 * (a struct's leaf); `schema` tells lists from values where the expression alone does not.
 */
export function cutsToSql(
  cuts: HardCut[],
  columnSql?: (column: string) => string,
  schema?: { name: string; list: boolean }[],
): string {
  if (cuts.length === 0) return 'TRUE';
  return cuts
    .map((cut) => {
      const expr = schema ? exprOf(schema, cut.column) : compileExpr(cut.column);
      const q = toSql(expr, { columnSql });
      if (cut.op === 'between')
        return `(${compareSql(q, '>', sqlNumber(cut.low))} AND ${compareSql(q, '<', sqlNumber(cut.high))})`;
      return compareSql(q, cut.op, sqlNumber(cut.value));
    })
    .join(' AND ');
}
