import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { describeCut } from '../eval/cutFlow.js';
import type { HardCut } from '../selection/cutsFile.js';
import { renderPlot } from './render.js';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** Histogram of one cut variable over all events, per class, with the cut applied to it. */
export interface CutDistribution {
  column: string;
  cut: HardCut;
  /** Bin edges (bins + 1). */
  edges: number[];
  /** Unweighted events per bin. */
  all: number[];
  /** Weighted signal and background per bin (labelled datasets only). */
  signal?: number[];
  background?: number[];
  /** Events below the first edge, above the last, and with no value (NaN, empty list). */
  underflow: number;
  overflow: number;
  missing: number;
}

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
  const classes: [string, number[]][] = d.signal && d.background ? [['signal', d.signal], ['background', d.background]] : [['all events', d.all]];
  const rows = classes.flatMap(([name, counts]) => stepRows(d.edges, counts, name));
  const thresholds = d.cut.op === 'between' ? [d.cut.low, d.cut.high] : [d.cut.value];
  const keep = d.cut.op === '>' ? 'keeps the right side' : d.cut.op === '<' ? 'keeps the left side' : 'keeps the middle';
  const outside = d.underflow + d.overflow + d.missing;
  return {
    $schema: SCHEMA,
    title: {
      text: `Cut ${describeCut(d.cut)}`,
      subtitle: [`dashed line: the cut (${keep})`, ...(outside > 0 ? [`not shown: ${d.underflow} events below, ${d.overflow} above, ${d.missing} without a value`] : [])],
    },
    width: 480,
    height: 260,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 'x', type: 'quantitative', title: d.column, scale: { domain: [d.edges[0], d.edges[d.edges.length - 1]], nice: false, zero: false } },
          y: { field: 'fraction', type: 'quantitative', title: classes.length === 2 ? 'fraction of class per bin' : 'fraction of events per bin' },
          color: { field: 'class', type: 'nominal', title: null, legend: { orient: 'top' }, scale: { domain: classes.map(([n]) => n), range: classes.length === 2 ? ['#d62728', '#1f77b4'] : ['#444444'] } },
        },
      },
      {
        data: { values: thresholds.map((x) => ({ x })) },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2, color: '#222222' },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
    ],
  };
}

/** Rows for a step line: one per bin at its left edge, plus the right edge of the last bin. */
function stepRows(edges: number[], counts: number[], name: string): object[] {
  const total = counts.reduce((a, b) => a + b, 0);
  const frac = (c: number) => (total > 0 ? c / total : 0);
  const rows = counts.map((c, i) => ({ x: edges[i], fraction: frac(c), class: name }));
  rows.push({ x: edges[edges.length - 1], fraction: frac(counts[counts.length - 1] ?? 0), class: name });
  return rows;
}
