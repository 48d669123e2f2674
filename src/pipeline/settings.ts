import type { TrainingSettings } from '../training/trainer.js';
import { skimColumns } from '../training/eventBytes.js';
import type { DatasetInfo } from '../sources/types.js';
import { type Pipeline, skimsInEngine } from './schema.js';

/**
 * What training reads of a pipeline file: its columns, model, loss and training sections, and the
 * columns the skim will write (the bytes the size term counts), so that training need not know
 * how the skim runs.
 */
export function trainingSettings(p: Pipeline, info: DatasetInfo): TrainingSettings {
  const { name, label, weight, preselection, features, cuts, model, loss, training } = p;
  const bytesColumns = p.skim.keep ?? skimColumns(info, skimsInEngine(p));
  return { name, label, weight, preselection, features, cuts, model, loss, training, bytesColumns };
}
