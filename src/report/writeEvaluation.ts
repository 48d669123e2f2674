import { mkdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { plotCutDistributions } from '../plots/cutPlots.js';
import { plotEvaluation, type RocMark } from '../plots/evalPlots.js';
import { plotStackedCuts } from '../plots/stackedPlots.js';
import { writeJsonAtomic } from '../util/atomicWrite.js';
import type { Evaluation } from '../eval/evaluate.js';
import type { EvalProvenance } from './types.js';

/**
 * Writes an evaluation to outDir: plots (roc, scores, one per cut, and with samples one stacked
 * plot of weighted yields per cut, log-y if asked) and eval.json (plot names relative to outDir).
 * Returns the paths written; report.html is the caller's (html.ts).
 */
export async function writeEvaluation(
  evaluation: Evaluation,
  provenance: EvalProvenance,
  outDir: string,
  options: { logY?: boolean } = {},
): Promise<{ json: string; plots: string[] }> {
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
    ...(evaluation.samples ? await plotStackedCuts(evaluation.samples.distributions, dir, options) : []),
  ];
  const json = join(dir, 'eval.json');
  await writeJsonAtomic(json, { ...provenance, ...evaluation, plots: plots.map((p) => basename(p)) });
  return { json, plots };
}
