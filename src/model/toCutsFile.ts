import { type CutsFile, type HardCut, preselectionCut } from '../selection/cutsFile.js';
import { hasCuts, hasMlp, type SelectionModel } from './model.js';

/**
 * The learned thresholds as hard cuts (cuts.json), after the pipeline's preselection when it has
 * one. With a score cut the skim also keeps only events whose classifier score sigmoid(MLP) is
 * above it, which needs the model itself.
 */
export function toCutsFile(model: SelectionModel, scoreCut: number | null, preselection?: string): CutsFile {
  if (scoreCut !== null && !hasMlp(model))
    throw new Error(`a score cut needs a classifier, but the model kind is '${model.kind}'`);
  const cuts: HardCut[] = (hasCuts(model) ? model.cuts : []).map((c) => {
    if (c.op === 'between') return { column: c.column, op: 'between', low: c.low!, high: c.high! };
    return { column: c.column, op: c.op, value: c.value! };
  });
  if (preselection) cuts.unshift(preselectionCut(preselection));
  return { cuts, score: scoreCut === null ? null : { op: '>', value: scoreCut } };
}
