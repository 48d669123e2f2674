import type { EventBatch } from '../batch/batch.js';
import { quoteColumn, valuesOf } from '../selection/expr/index.js';
import type { DatasetInfo } from '../sources/types.js';

/**
 * The soft share of each column's values the cuts keep: sum_i cut_i n_i / sum_i n_i, n_i the
 * event's values in the column (1, or its list length). Times the column's bytes as a writer
 * stores them, it predicts the column's bytes in the skim.
 */
export class KeptValues {
  private readonly lists: boolean[];
  private readonly kept: Float64Array;
  private readonly all: Float64Array;

  constructor(
    readonly columns: string[],
    info: DatasetInfo,
  ) {
    // A list without values costs no bytes: counted as a flat column (its count is not read).
    this.lists = columns.map((c) => info.schema.find((f) => f.name === c)?.list === true && info.columnValues[c] > 0);
    this.kept = new Float64Array(columns.length);
    this.all = new Float64Array(columns.length);
  }

  /** cut: prod_k w_k per event (soft), null without cuts. */
  add(cut: Float64Array | null, batch: EventBatch): void {
    let sumCut = 0;
    for (let i = 0; i < batch.length; i++) sumCut += cut ? cut[i] : 1;
    this.columns.forEach((c, j) => {
      if (!this.lists[j]) {
        this.kept[j] += sumCut;
        this.all[j] += batch.length;
        return;
      }
      const counts = valuesOf(batch, `count(${quoteColumn(c)})`);
      for (let i = 0; i < batch.length; i++) {
        this.kept[j] += (cut ? cut[i] : 1) * counts[i];
        this.all[j] += counts[i];
      }
    });
  }

  /** The share kept per column (1 for a column without values). */
  shares(): Record<string, number> {
    return Object.fromEntries(this.columns.map((c, j) => [c, this.all[j] > 0 ? this.kept[j] / this.all[j] : 1]));
  }
}
