import type { HardCut } from './cutsFile.js';
import { type ColumnForm, columnForm, compileExpr } from './expr/index.js';

/**
 * The cut variable as the Python and C++ exports translate it: a column, abs(), count() or
 * first() of one; other expressions are exported to SQL only.
 */
export function exportedForm(cut: HardCut, target: string): ColumnForm {
  const form = columnForm(compileExpr(cut.column));
  if (!form)
    throw new Error(
      `cut variable '${cut.column}': --to ${target} translates a column, abs(), count() and first() of one; ` +
        'this expression exports --to sql only',
    );
  return form;
}
