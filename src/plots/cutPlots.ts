import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { describeCut } from '../eval/cutFlow.js';
import type { CutDistribution } from '../eval/cutHistograms.js';
import { classHistogramSpec } from './classHistogram.js';
import { renderPlot } from './render.js';

/** A file-name-safe form of a cut variable: abs(eta) -> abs_eta. */
export function plotSlug(column: string): string {
  return column.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '');
}

/**
 * One plot per cut, `cut-<n>-<variable>.png` (+ .svg) in outDir: signal and background
 * distributions of the cut variable, each normalised to unit area (all events when unlabelled),
 * with the threshold drawn as a rule. Returns the PNG paths.
 */
export async function plotCutDistributions(distributions: CutDistribution[], outDir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, d] of distributions.entries()) {
    const { png } = await renderPlot(cutSpec(d), join(outDir, `cut-${i + 1}-${plotSlug(d.column)}`));
    paths.push(png);
  }
  return paths;
}

function cutSpec(d: CutDistribution): TopLevelSpec {
  const keep =
    d.cut.op === '>' ? 'keeps the right side' : d.cut.op === '<' ? 'keeps the left side' : 'keeps the middle';
  const outside = d.underflow + d.overflow + d.missing;
  return classHistogramSpec({
    title: `Cut ${describeCut(d.cut)}`,
    subtitle: [
      `dashed line: the cut (${keep})`,
      ...(outside > 0
        ? [`not shown: ${d.underflow} events below, ${d.overflow} above, ${d.missing} without a value`]
        : []),
    ],
    xTitle: d.column,
    edges: d.edges,
    classes:
      d.signal && d.background
        ? [
            ['signal', d.signal],
            ['background', d.background],
          ]
        : [['all events', d.all]],
    rules: d.cut.op === 'between' ? [d.cut.low, d.cut.high] : [d.cut.value],
  });
}
