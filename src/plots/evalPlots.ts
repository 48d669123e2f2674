import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { RocPoint, ScoreDistribution } from '../eval/scoreHistogram.js';
import { classHistogramSpec } from './classHistogram.js';
import { renderPlot, VEGA_LITE_SCHEMA } from './render.js';

/** A point to mark on the ROC curve (a working point). */
export interface RocMark {
  label: string;
  signalEfficiency: number;
  backgroundEfficiency: number;
}

/**
 * ROC curve in the HEP convention: background rejection 1/eps_B (log scale) against signal
 * efficiency eps_S, with a random classifier (eps_B = eps_S) for reference and the working
 * points marked. Points with eps_B = 0 (infinite rejection) are left out. Writes <base>.png/.svg.
 */
async function plotRoc(roc: RocPoint[], marks: RocMark[], base: string, auc?: number): Promise<string> {
  const curve = roc
    .filter((p) => p.backgroundEfficiency > 0)
    .map((p) => ({ eff: p.signalEfficiency, rejection: 1 / p.backgroundEfficiency }));
  const random = Array.from({ length: 50 }, (_, i) => (i + 1) / 50).map((e) => ({ eff: e, rejection: 1 / e }));
  const points = marks
    .filter((m) => m.backgroundEfficiency > 0)
    .map((m, i) => ({
      eff: m.signalEfficiency,
      rejection: 1 / m.backgroundEfficiency,
      label: m.label,
      dy: i % 2 === 0 ? -8 : 12,
    }));
  const x = {
    field: 'eff',
    type: 'quantitative' as const,
    title: 'signal efficiency eps_S',
    scale: { domain: [0, 1] },
  };
  const y = {
    field: 'rejection',
    type: 'quantitative' as const,
    title: 'background rejection 1/eps_B',
    scale: { type: 'log' as const },
  };
  const spec: TopLevelSpec = {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: 'ROC curve',
      subtitle: `${auc !== undefined && Number.isFinite(auc) ? `AUC = ${auc.toFixed(4)}; ` : ''}dashed: a random classifier (eps_B = eps_S)`,
    },
    width: 480,
    height: 320,
    layer: [
      { data: { values: random }, mark: { type: 'line', strokeDash: [5, 4], color: '#999999' }, encoding: { x, y } },
      { data: { values: curve }, mark: { type: 'line', color: '#1f77b4', strokeWidth: 2 }, encoding: { x, y } },
      {
        data: { values: points },
        layer: [
          { mark: { type: 'point', filled: true, size: 60, color: '#d62728' }, encoding: { x, y } },
          // Alternate labels above and below their points so that close working points stay readable.
          {
            mark: { type: 'text', align: 'left', dx: 7, dy: -8, fontSize: 10 },
            transform: [{ filter: 'datum.dy < 0' }],
            encoding: { x, y, text: { field: 'label' } },
          },
          {
            mark: { type: 'text', align: 'left', dx: 7, dy: 12, fontSize: 10 },
            transform: [{ filter: 'datum.dy > 0' }],
            encoding: { x, y, text: { field: 'label' } },
          },
        ],
      },
    ],
  };
  return (await renderPlot(spec, base)).png;
}

/**
 * Score histograms: signal and background each normalised to unit area (all events when the
 * dataset has no label). Writes <base>.png/.svg.
 */
async function plotScores(dist: ScoreDistribution, base: string, scoreCut?: number): Promise<string> {
  const classes: [string, number[]][] =
    dist.signal.some((v) => v > 0) || dist.background.some((v) => v > 0)
      ? [
          ['signal', dist.signal],
          ['background', dist.background],
        ]
      : [['all events', dist.all]];
  const spec = classHistogramSpec({
    title: 'Model output',
    // The score cut is on sigmoid(MLP) of the events that pass the hard cuts, not on P: no line on this axis.
    subtitle: [
      `P = soft cuts x sigmoid(MLP)${scoreCut !== undefined ? `; the skim's score cut (${scoreCut}) applies to sigmoid(MLP) after the hard cuts` : ''}`,
    ],
    xTitle: 'score',
    edges: dist.edges,
    classes,
    rules: [],
    domain: [0, 1],
  });
  return (await renderPlot(spec, base)).png;
}

/** Both evaluation plots in outDir (roc.png, scores.png); returns the PNG paths. */
export async function plotEvaluation(
  o: { roc: RocPoint[]; marks: RocMark[]; auc?: number; scores: ScoreDistribution; scoreCut?: number },
  outDir: string,
): Promise<string[]> {
  const paths: string[] = [];
  if (o.roc.length > 0) paths.push(await plotRoc(o.roc, o.marks, join(outDir, 'roc'), o.auc));
  paths.push(await plotScores(o.scores, join(outDir, 'scores'), o.scoreCut));
  return paths;
}
