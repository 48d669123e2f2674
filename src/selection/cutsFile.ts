import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { EventBatch } from '../batch/batch.js';
import { evaluateQuantity, parseQuantity, quantitySql } from './quantity.js';

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
      parseQuantity(c.column);
    } catch (e) {
      throw new Error(`${path}: cut ${i} ('${c.column}'): ${(e as Error).message}`);
    }
  });
  return parsed.data;
}

/** Columns a cuts file reads. */
export function cutColumns(cuts: CutsFile): string[] {
  return [...new Set(cuts.cuts.map((c) => parseQuantity(c.column).column))];
}

/** Whether each event passes every rectangular cut (1) or not (0). NaN fails. */
export function passMask(batch: EventBatch, cuts: HardCut[]): Uint8Array {
  const mask = new Uint8Array(batch.length).fill(1);
  for (const cut of cuts) {
    const x = evaluateQuantity(batch, parseQuantity(cut.column));
    // Comparisons with NaN are false, so NaN fails every cut.
    if (cut.op === '>') for (let i = 0; i < x.length; i++) mask[i] &= x[i] > cut.value ? 1 : 0;
    else if (cut.op === '<') for (let i = 0; i < x.length; i++) mask[i] &= x[i] < cut.value ? 1 : 0;
    else for (let i = 0; i < x.length; i++) mask[i] &= x[i] > cut.low && x[i] < cut.high ? 1 : 0;
  }
  return mask;
}

/**
 * SQL WHERE clause equal to passMask (DuckDB orders NaN above every number, so exclude it).
 * `columnSql` gives a column's SQL where it is not the quoted name (a struct's leaf).
 */
export function cutsToSql(cuts: HardCut[], columnSql?: (column: string) => string): string {
  if (cuts.length === 0) return 'TRUE';
  return cuts
    .map((cut) => {
      // Compared as doubles, as passMask does (booleans too, which SQL will not compare with numbers).
      const quantity = parseQuantity(cut.column);
      const q = `CAST(${quantitySql(quantity, columnSql?.(quantity.column))} AS DOUBLE)`;
      const notNan = `NOT isnan(${q})`;
      if (cut.op === '>') return `(${q} > ${sqlNumber(cut.value)} AND ${notNan})`;
      if (cut.op === '<') return `(${q} < ${sqlNumber(cut.value)} AND ${notNan})`;
      return `(${q} > ${sqlNumber(cut.low)} AND ${q} < ${sqlNumber(cut.high)} AND ${notNan})`;
    })
    .join(' AND ');
}

/**
 * A double literal that round-trips exactly: JavaScript's shortest form, parsed by DuckDB as a
 * double. (A bare number literal is parsed as a DECIMAL first, then converted: for about 5 % of
 * values that is one unit in the last place off, and an event sitting on the cut passed it.)
 */
function sqlNumber(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? "'inf'::DOUBLE" : "'-inf'::DOUBLE";
  return `'${v}'::DOUBLE`;
}
