import type { CutsFile } from '../selection/cutsFile.js';
import type { SkimFigures, SkimResult } from '../skim/runSkim.js';
import type { SamplesReport } from './samples.js';

/** report.json of a run: the skim's figures plus what training predicted and measured. */
export interface RunReport
  extends
    SkimFigures,
    Pick<SkimResult, 'bytesSavedByRows' | 'bytesSavedByColumns' | 'bytesSavedByEncoding' | 'columnsNotWritten'> {
  pipeline: string;
  keptFractionPredicted: number;
  keptBytesFractionPredicted: number;
  keptFractionActual: number;
  signalEfficiency?: number;
  backgroundEfficiency?: number;
  auc?: number;
  cuts: CutsFile;
  backend: string;
  trainingEventsPerSecond: number;
  warnings: string[];
  plots: string[];
  timings: { trainSeconds: number; skimSeconds: number; totalSeconds: number };
  /** A pipeline of samples: each sample's skim and weighted yields, their total and significance. */
  samples?: SamplesReport;
}

/** Where an evaluation came from, recorded in eval.json. */
export interface EvalProvenance {
  model: string;
  /** The cuts file used, or null for the model's own learned cuts. */
  cutsFile: string | null;
  inputs: string[];
}
