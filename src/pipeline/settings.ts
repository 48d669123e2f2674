import type { TrainingSettings } from '../training/trainer.js';
import { skimColumns } from '../training/eventBytes.js';
import type { DatasetInfo } from '../sources/types.js';
import { columnSelection, skimKeep } from './columnSelection.js';
import { type Pipeline, skimsInEngine } from './schema.js';

/**
 * What training reads of a pipeline file: its columns, model, loss and training sections, and the
 * columns the skim will write (the bytes the size term counts), so that training need not know
 * how the skim runs. With column selection, the pinned columns and the candidates with gates.
 */
export function trainingSettings(p: Pipeline, info: DatasetInfo): TrainingSettings {
  const { name, label, weight, features, cuts, model, loss, training } = p;
  const selection = columnSelection(p, info);
  const base = { name, label, weight, features, cuts, model, loss, training, scoreCut: p.skim.scoreCut };
  if (selection)
    return {
      ...base,
      bytesColumns: selection.pinned,
      columnGates: { candidates: selection.candidates, gates: p.columns!.gates },
    };
  return { ...base, bytesColumns: skimKeep(p, info, null) ?? skimColumns(info, skimsInEngine(p)) };
}
