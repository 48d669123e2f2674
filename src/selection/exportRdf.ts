import type { HardCut } from './cutsFile.js';
import { exportedForm } from './exportForm.js';

/**
 * diffskim's hard cuts as an RDataFrame Filter expression (C++, compiled by ROOT's interpreter):
 * a list column is a ROOT::VecOps::RVec, so count(jets) is jets.size() and first(jets) is
 * jets[0] behind a size check (an empty list fails the cut). Comparisons with NaN are false in
 * C++, as in diffskim; numbers are double literals, so integer columns compare as doubles too.
 */
export function cutsToRdf(cuts: HardCut[]): string {
  if (cuts.length === 0) return 'true';
  return cuts.map(comparison).join(' && ');
}

const CPP_IDENTIFIER = /^[A-Za-z_]\w*$/;

function comparison(cut: HardCut): string {
  const q = exportedForm(cut, 'rdf');
  if (!CPP_IDENTIFIER.test(q.column)) {
    throw new Error(
      `cut variable '${cut.column}': column '${q.column}' is not a C++ identifier, which an RDataFrame Filter ` +
        `string cannot name; give it one first (df.Alias("new_name", ...) or rename the branch), then edit the cut`,
    );
  }
  const c = q.column;
  const x = q.fn === 'abs' ? `std::abs(${c})` : q.fn === 'count' ? `${c}.size()` : q.fn === 'first' ? `${c}[0]` : c;
  const test =
    cut.op === 'between'
      ? `${x} > ${cppNumber(cut.low)} && ${x} < ${cppNumber(cut.high)}`
      : `${x} ${cut.op} ${cppNumber(cut.value)}`;
  return q.fn === 'first' ? `(${c}.size() > 0 && ${test})` : `(${test})`;
}

/** A double literal that round-trips (JavaScript's shortest form, with '.0' where it looks like an integer). */
function cppNumber(v: number): string {
  if (!Number.isFinite(v)) return `${v < 0 ? '-' : ''}std::numeric_limits<double>::infinity()`;
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}
