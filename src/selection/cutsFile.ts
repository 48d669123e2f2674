import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { EventBatch } from '../batch/batch.js';
import { compareSql, compileExpr, ExprError, exprOf, sqlNumber, toSql, valuesOf } from './expr/index.js';

/**
 * cuts.json: hard cuts that any reader can apply. NaN or null in a cut variable fails the cut
 * (the event is cut, and counted as cut).
 */
const HardCutSchema = z.discriminatedUnion('op', [
  z.object({ column: z.string(), op: z.literal('>'), value: z.number() }).strict(),
  z.object({ column: z.string(), op: z.literal('<'), value: z.number() }).strict(),
  z.object({ column: z.string(), op: z.literal('between'), low: z.number(), high: z.number() }).strict(),
]);

export const CutsFileSchema = z
  .object({
    cuts: z.array(HardCutSchema),
    score: z
      .object({ op: z.literal('>'), value: z.number() })
      .strict()
      .nullable()
      .default(null),
  })
  .strict();

export type HardCut = z.infer<typeof HardCutSchema>;
export type CutsFile = z.infer<typeof CutsFileSchema>;

export async function readCutsFile(path: string): Promise<CutsFile> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: cannot read cuts file: ${(e as Error).message}`);
  }
  const parsed = CutsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: invalid cuts file at '${issue.path.join('.')}': ${issue.message}`);
  }
  parsed.data.cuts.forEach((c, i) => {
    try {
      compileExpr(c.column);
    } catch (e) {
      throw e instanceof ExprError ? e.in(`${path}: cuts[${i}].column`) : e;
    }
  });
  return parsed.data;
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

/** Whether each event passes every rectangular cut (1) or not (0). NaN fails. */
export function passMask(batch: EventBatch, cuts: HardCut[]): Uint8Array {
  const mask = new Uint8Array(batch.length).fill(1);
  for (const cut of cuts) {
    const x = valuesOf(batch, cut.column);
    // Comparisons with NaN are false, so NaN fails every cut.
    if (cut.op === '>') for (let i = 0; i < x.length; i++) mask[i] &= x[i] > cut.value ? 1 : 0;
    else if (cut.op === '<') for (let i = 0; i < x.length; i++) mask[i] &= x[i] < cut.value ? 1 : 0;
    else for (let i = 0; i < x.length; i++) mask[i] &= x[i] > cut.low && x[i] < cut.high ? 1 : 0;
  }
  return mask;
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
