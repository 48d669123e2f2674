import type { TrainingSettings } from '../training/trainer.js';
import type { SampleIndex } from '../training/weightSigns.js';
import type { DatasetInfo } from '../sources/types.js';
import { MIX_LABEL, MIX_SAMPLE, MIX_WEIGHT } from '../samples/mix.js';
import { columnSelection, skimKeep, writableColumns } from './columnSelection.js';
import type { Pipeline } from './schema.js';

/**
 * What training reads of a pipeline file: its columns, model, loss and training sections, and the
 * columns the skim will write (the bytes the size term counts), so that training need not know
 * how the skim runs. With column selection, the pinned columns and the candidates with gates.
 * With samples, training reads their mix (samples/mix.ts), whose label and weight columns the mix
 * adds, the weights normalised to the luminosity.
 */
export function trainingSettings(p: Pipeline, info: DatasetInfo): TrainingSettings {
  const { name, preselection, features, cuts, model, loss, training } = p;
  const samples = p.samples && { normalised: true };
  const base = {
    ...{ name, ...labelAndWeight(p), ...samples, preselection, features, cuts, model, loss, training },
    scoreCut: p.skim.scoreCut,
  };
  const selection = columnSelection(p, info);
  if (selection)
    return {
      ...base,
      bytesColumns: selection.pinned,
      columnGates: { candidates: selection.candidates, gates: p.columns!.gates },
    };
  return { ...base, bytesColumns: skimKeep(p, info, null) ?? writableColumns(p, info) };
}

/**
 * The label and weight columns training and evaluation read: the pipeline's, or the mix's with
 * samples, with its sample index column and the samples' names (warnings name a sample) and the
 * words warnings name its weight in.
 */
export function labelAndWeight(p: Pipeline): LabelAndWeight {
  if (!p.samples) return { label: p.label, weight: p.weight };
  const sampleIndex = { column: MIX_SAMPLE, names: p.samples.map((s) => s.name) };
  return { label: MIX_LABEL, weight: MIX_WEIGHT, weightName: "the samples' event weights", sampleIndex };
}

interface LabelAndWeight {
  label?: string;
  weight?: string;
  /** How warnings name the weight (default: the weight column). */
  weightName?: string;
  sampleIndex?: SampleIndex;
}
