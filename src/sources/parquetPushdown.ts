import { columnForm, compileExpr } from '../selection/expr/index.js';
import type { HardCut } from '../selection/cutsFile.js';
import type { ChunkStats, ParquetFileMeta, RowGroupMeta } from './parquetMeta.js';

/** What the footer statistics say a pass with these cuts and columns will skip. */
export interface PushDownStats {
  rowGroupsTotal: number;
  /** Row groups whose min/max show that no event can pass the cuts. */
  rowGroupsSkipped: number;
  /** Compressed bytes of all column chunks. */
  bytesTotal: number;
  /** Compressed bytes never read: columns not needed, and every column of skipped row groups. */
  bytesNeverRead: number;
}

/**
 * Whether some event of the row group may pass every cut, judged from min/max statistics.
 * Only cuts on a column or abs(column) are judged; anything unknown counts as "may pass".
 */
function rowGroupMayPass(group: RowGroupMeta, cuts: HardCut[]): boolean {
  return cuts.every((cut) => {
    const q = columnForm(compileExpr(cut.column));
    if (q?.fn !== 'value' && q?.fn !== 'abs') return true;
    const s = group.columns[q.column];
    if (!s) return true;
    // Nulls fail every cut, so a chunk of nulls only cannot pass.
    if (s.nullCount !== null && s.nullCount >= group.rows) return false;
    const range = q.fn === 'abs' ? absRange(s) : s.min === null || s.max === null ? null : { lo: s.min, hi: s.max };
    if (!range) return true;
    // x > c needs max > c; x < c needs min < c; NaN statistics compare false and keep the group.
    if (cut.op === 'between') return !(range.hi <= cut.low || range.lo >= cut.high || cut.low >= cut.high);
    const c = cut.value;
    if (cut.op === '>') return !(range.hi <= c);
    if (cut.op === '<') return !(range.lo >= c);
    if (cut.op === '>=') return !(range.hi < c);
    if (cut.op === '<=') return !(range.lo > c);
    return !(range.hi < c || range.lo > c);
  });
}

function absRange(s: ChunkStats): { lo: number; hi: number } | null {
  if (s.min === null || s.max === null) return null;
  if (s.min >= 0) return { lo: s.min, hi: s.max };
  if (s.max <= 0) return { lo: -s.max, hi: -s.min };
  return { lo: 0, hi: Math.max(-s.min, s.max) };
}

export function planPushDown(files: ParquetFileMeta[], cuts: HardCut[], columnsRead: string[]): PushDownStats {
  const read = new Set(columnsRead);
  const stats: PushDownStats = { rowGroupsTotal: 0, rowGroupsSkipped: 0, bytesTotal: 0, bytesNeverRead: 0 };
  for (const f of files) {
    // A struct's leaves are counted in its bytes: those of the leaves read are read of it.
    const leavesOf = new Map<string, string[]>();
    for (const l of f.leaves) leavesOf.set(l.column, [...(leavesOf.get(l.column) ?? []), l.field.name]);
    const leaves = new Set(f.leaves.map((l) => l.field.name));
    for (const g of f.rowGroups) {
      const skipped = !rowGroupMayPass(g, cuts);
      stats.rowGroupsTotal++;
      if (skipped) stats.rowGroupsSkipped++;
      for (const [name, c] of Object.entries(g.columns)) {
        if (leaves.has(name)) continue;
        stats.bytesTotal += c.compressedBytes;
        const readLeaves = (leavesOf.get(name) ?? [])
          .filter((l) => read.has(l))
          .reduce((s, l) => s + (g.columns[l]?.compressedBytes ?? 0), 0);
        if (skipped || !read.has(name)) stats.bytesNeverRead += c.compressedBytes - (skipped ? 0 : readLeaves);
      }
    }
  }
  return stats;
}
