import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { plotCutDistributions } from '../plots/cutPlots.js';
import { plotEvaluation, type RocMark } from '../plots/evalPlots.js';
import { writeHtmlReport } from './html.js';
import { writeJsonAtomic } from '../util/atomicWrite.js';
import type { Evaluation } from '../eval/evaluate.js';

/** Where an evaluation came from, recorded in eval.json. */
export interface EvalProvenance {
  model: string;
  /** The cuts file used, or null for the model's own learned cuts. */
  cutsFile: string | null;
  inputs: string[];
}

/**
 * Writes an evaluation to outDir: plots (roc, scores, one per cut), eval.json (plot names
 * relative to outDir) and report.html. Returns the paths written.
 */
export async function writeEvaluation(
  evaluation: Evaluation,
  provenance: EvalProvenance,
  outDir: string,
): Promise<{ json: string; html: string; plots: string[] }> {
  const dir = resolve(outDir);
  await mkdir(dir, { recursive: true });
  const marks: RocMark[] = [
    ...evaluation.workingPoints.map((w) => ({ label: `eps_S ${Math.round(100 * w.targetSignalEfficiency)}%`, ...w })),
    ...(evaluation.savedCuts.signalEfficiency !== undefined
      ? [
          {
            label: 'saved cuts',
            signalEfficiency: evaluation.savedCuts.signalEfficiency,
            backgroundEfficiency: evaluation.savedCuts.backgroundEfficiency!,
          },
        ]
      : []),
  ];
  const plots = [
    ...(await plotEvaluation(
      {
        roc: evaluation.roc,
        marks,
        auc: evaluation.auc ?? undefined,
        scores: evaluation.distributions.score,
        scoreCut: evaluation.savedCuts.cuts.score?.value,
      },
      dir,
    )),
    ...(await plotCutDistributions(evaluation.distributions.cuts, dir)),
  ];
  const json = join(dir, 'eval.json');
  await writeJsonAtomic(json, { ...provenance, ...evaluation, plots: plots.map((p) => basename(p)) });
  const html = await writeHtmlReport(dir);
  return { json, html, plots };
}
