import type { SelectionModel } from '../model/model.js';
import { compileExpr } from '../selection/expr/index.js';
import { columnPattern } from '../util/columnPattern.js';
import type { DatasetInfo } from '../sources/types.js';
import { isMixColumn } from '../samples/mix.js';
import { skimColumns } from '../training/eventBytes.js';
import { type Pipeline, skimsInEngine } from './schema.js';

/**
 * Which columns a pipeline's skim writes. Without `columns.select`: skim.keep, or every column.
 * With it: the pinned columns (skim.keep) and the candidates whose gates stayed open (plus the
 * cut variables' columns with keepCutColumns); every other column is dropped. Names in skim.keep
 * and columns.candidates may be patterns (`Muon_*`, `?` one character).
 */
export interface ColumnSelection {
  pinned: string[];
  candidates: string[];
}

/** The pinned and candidate columns of a pipeline with column selection on, else null. */
export function columnSelection(p: Pipeline, info: DatasetInfo): ColumnSelection | null {
  if (!p.columns?.select) return null;
  const available = writableColumns(p, info);
  const pinned = resolveColumns(p.skim.keep ?? [], available, `pipeline '${p.name}': skim.keep`);
  const read = [...new Set(p.features.flatMap(columnsRead))];
  const named = p.columns.candidates
    ? resolveColumns(p.columns.candidates, available, `pipeline '${p.name}': columns.candidates`)
    : read;
  const candidates = named.filter((c) => !pinned.includes(c));
  for (const f of p.features) {
    const column = columnsRead(f).find((c) => !pinned.includes(c) && !candidates.includes(c));
    if (column !== undefined)
      throw new Error(
        `pipeline '${p.name}': feature '${f}' reads column '${column}', which is neither pinned (skim.keep) ` +
          'nor a candidate (columns.candidates): add it to one of them',
      );
  }
  const unread = candidates.find((c) => !read.includes(c));
  if (unread)
    throw new Error(
      `pipeline '${p.name}': candidate column '${unread}' is read by no feature, so its gate could only close; ` +
        'add a feature reading it or leave it out of columns.candidates',
    );
  return { pinned, candidates };
}

/** The columns the skim writes (undefined: every column) once `model` is trained: see ColumnSelection. */
export function skimKeep(p: Pipeline, info: DatasetInfo, model: SelectionModel | null): string[] | undefined {
  const selection = columnSelection(p, info);
  if (!selection) {
    const keep = p.skim.keep;
    return keep && resolveColumns(keep, writableColumns(p, info), `pipeline '${p.name}': skim.keep`);
  }
  const kept = model?.columnChoice?.kept ?? [];
  const cutColumns = model && p.columns!.keepCutColumns ? model.cuts.flatMap((c) => columnsRead(c.column)) : [];
  return [...new Set([...selection.pinned, ...kept, ...cutColumns])];
}

/** The columns a skim of the pipeline can write (not the label and weight columns a samples' mix adds). */
export function writableColumns(p: Pipeline, info: DatasetInfo): string[] {
  return skimColumns(info, skimsInEngine(p)).filter((c) => !isMixColumn(c));
}

/** Names matching `patterns` (`*` any characters, `?` one), in the order given; other names as they are. */
export function resolveColumns(patterns: string[], available: string[], where: string): string[] {
  const out: string[] = [];
  for (const p of patterns) {
    const re = columnPattern(p);
    if (!re) {
      out.push(p);
      continue;
    }
    const matched = available.filter((c) => re.test(c));
    if (matched.length === 0) throw new Error(`${where}: pattern '${p}' matches no column of the input`);
    out.push(...matched);
  }
  return [...new Set(out)];
}

/** The columns a feature or cut variable (an expression) reads. */
function columnsRead(name: string): string[] {
  return compileExpr(name).columns;
}
