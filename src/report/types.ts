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
  /** With column selection (pipeline `columns.select`): which columns were kept and the bytes predicted. */
  columns?: ColumnsReport;
}

/** The skim's figures as training predicts them (soft cuts and gates at the end of training). */
export interface SkimPrediction {
  /** Bytes of the skim on disk, the writer's encoding modelled from a sample it wrote. */
  bytesOut: number;
  /** As bytesSavedByColumns: the dropped columns' bytes on disk (a candidate at 1 - P(open)). */
  bytesSavedByColumns: number;
  /** As bytesSavedByRows: the kept columns' bytes on disk times the soft share of their values cut. */
  bytesSavedByRows: number;
}

export interface ColumnsReport {
  pinned: string[];
  candidates: string[];
  /** Candidates whose gates stayed open (the model's features read only these and pinned columns). */
  kept: string[];
  /** Every input column the skim does not write, with its bytes on disk; candidate: its gate closed. */
  dropped: { column: string; bytes: number; candidate: boolean }[];
  predicted: SkimPrediction;
}

/** Where an evaluation came from, recorded in eval.json. */
export interface EvalProvenance {
  model: string;
  /** The cuts file used, or null for the model's own learned cuts. */
  cutsFile: string | null;
  inputs: string[];
}
