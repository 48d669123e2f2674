import { CUTS_FILE_VERSION, type CutsFile, type HardCut, integerCut, preselectionCut } from '../selection/cutsFile.js';
import { hasCuts, hasMlp, type SelectionModel } from './model.js';
import { cutVariable } from './objectCuts.js';

/**
 * The learned thresholds as hard cuts (cuts.json), after the pipeline's preselection when it has
 * one; in integers for an integer-valued variable (the same events as the soft cut's hard limit).
 * With a score cut the skim also keeps only events whose classifier score sigmoid(MLP) is above
 * it, which needs the model itself.
 */
export function toCutsFile(model: SelectionModel, scoreCut: number | null, preselection?: string): CutsFile {
  if (scoreCut !== null && !hasMlp(model))
    throw new Error(`a score cut needs a classifier, but the model kind is '${model.kind}'`);
  const cuts: HardCut[] = (hasCuts(model) ? model.cuts : []).map((c) => {
    const column = cutVariable(c);
    const cut: HardCut =
      c.op === 'between'
        ? { column, op: 'between', low: c.low!, high: c.high! }
        : { column, op: c.op, value: c.value! };
    return c.integer ? integerCut(cut) : cut;
  });
  if (preselection) cuts.unshift(preselectionCut(preselection));
  return { version: CUTS_FILE_VERSION, cuts, score: scoreCut === null ? null : { op: '>', value: scoreCut } };
}
