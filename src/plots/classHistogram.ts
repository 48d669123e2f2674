import type { TopLevelSpec } from 'vega-lite';
import { VEGA_LITE_SCHEMA } from './render.js';

export interface ClassHistogram {
  title: string;
  subtitle: string[];
  xTitle: string;
  /** Bin edges (counts.length + 1 of them). */
  edges: number[];
  /** Counts per bin by class: signal and background, or all events when there is no label. */
  classes: [string, number[]][];
  /** Thresholds drawn as dashed rules. */
  rules: number[];
  /** x range; default the edges'. */
  domain?: [number, number];
}

/** Step histograms of each class, each scaled to unit area, with the thresholds as dashed rules. */
export function classHistogramSpec(h: ClassHistogram): TopLevelSpec {
  const rows = h.classes.flatMap(([name, counts]) => stepRows(h.edges, counts, name));
  const labelled = h.classes.length === 2;
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: h.title, subtitle: h.subtitle },
    width: 480,
    height: 260,
    layer: [
      {
        data: { values: rows },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: {
            field: 'x',
            type: 'quantitative',
            title: h.xTitle,
            scale: { domain: h.domain ?? [h.edges[0], h.edges[h.edges.length - 1]], nice: false, zero: false },
          },
          y: {
            field: 'fraction',
            type: 'quantitative',
            title: labelled ? 'fraction of class per bin' : 'fraction of events per bin',
          },
          color: {
            field: 'class',
            type: 'nominal',
            title: null,
            legend: { orient: 'top' },
            scale: { domain: h.classes.map(([n]) => n), range: labelled ? ['#d62728', '#1f77b4'] : ['#444444'] },
          },
        },
      },
      {
        data: { values: h.rules.map((x) => ({ x })) },
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
