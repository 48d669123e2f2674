import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { describeCut } from '../eval/cutFlow.js';
import { thresholds } from '../eval/cutHistograms.js';
import type { StackedDistribution } from '../eval/stackedHistograms.js';
import { plotSlug } from './cutPlots.js';
import { renderPlot, VEGA_LITE_SCHEMA } from './render.js';

const BACKGROUND_COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22'];
const SIGNAL_COLOURS = ['#d62728', '#17becf', '#000000'];

/** One filled box of the stack: a process's yield in a bin, between the stack below and above it. */
export interface StackBox {
  process: string;
  x: number;
  x2: number;
  y: number;
  y2: number;
}

/** What the stacked plot of a cut variable draws, in numbers (the spec is made from these). */
export interface StackedRows {
  /** Background processes stacked in their order, bin by bin. */
  boxes: StackBox[];
  /** Total background per bin +- sqrt(sum w^2): the statistical uncertainty band. */
  band: { x: number; x2: number; low: number; high: number }[];
  /** Each signal process as a step line of its own yield (not stacked), one row per left edge plus the last edge. */
  lines: { process: string; x: number; y: number }[];
}

/** The stack, band and signal lines of a cut variable's weighted histograms. */
export function stackedRows(d: StackedDistribution): StackedRows {
  const bins = d.edges.length - 1;
  const backgrounds = d.processes.filter((p) => p.role === 'background');
  const boxes: StackBox[] = [];
  const band: StackedRows['band'] = [];
  for (let k = 0; k < bins; k++) {
    let y = 0;
    let variance = 0;
    for (const p of backgrounds) {
      boxes.push({ process: p.process, x: d.edges[k], x2: d.edges[k + 1], y, y2: y + p.yields[k] });
      y += p.yields[k];
      variance += p.sumW2[k];
    }
    const error = Math.sqrt(variance);
    if (backgrounds.length) band.push({ x: d.edges[k], x2: d.edges[k + 1], low: y - error, high: y + error });
  }
  const lines = d.processes
    .filter((p) => p.role === 'signal')
    .flatMap((p) => [
      ...p.yields.map((y, k) => ({ process: p.process, x: d.edges[k], y })),
      { process: p.process, x: d.edges[bins], y: p.yields[bins - 1] ?? 0 },
    ]);
  return { boxes, band, lines };
}

/**
 * One stacked plot per cut variable, `stack-<n>-<variable>.png` (+ .svg) in outDir: the weighted
 * yields of the background processes stacked (not unit area), their statistical uncertainty
 * band, each signal process as a line, and the cut as a dashed rule; log-y when asked (bins of no
 * positive yield are then left out). Returns the PNG paths.
 */
export async function plotStackedCuts(
  distributions: StackedDistribution[],
  outDir: string,
  o: { logY?: boolean } = {},
): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, d] of distributions.entries()) {
    const { png } = await renderPlot(
      stackedSpec(d, o.logY ?? false),
      join(outDir, `stack-${i + 1}-${plotSlug(d.column)}`),
    );
    paths.push(png);
  }
  return paths;
}

function stackedSpec(d: StackedDistribution, logY: boolean): TopLevelSpec {
  const rows = stackedRows(d);
  const tops = [...rows.band.map((b) => b.high), ...rows.lines.map((l) => l.y)];
  // On a log scale a stack starts at a floor below the smallest positive yield shown.
  // On a log scale a stack starts at a floor below the smallest positive yield shown (but not
  // more than 7 decades below the highest); on a linear one the band stops at 0 below a positive stack.
  const positive = [...rows.boxes.map((b) => b.y2 - b.y), ...rows.lines.map((l) => l.y)].filter((y) => y > 0);
  const floor = positive.length ? Math.max(Math.min(...positive) / 3, Math.max(...tops) * 1e-7) : 1e-3;
  const clip = (y: number) => (logY ? Math.max(y, floor) : y);
  const boxes = rows.boxes.filter((b) => !logY || b.y2 > floor).map((b) => ({ ...b, y: clip(b.y), y2: clip(b.y2) }));
  const band = rows.band
    .filter((b) => !logY || b.high > floor)
    .map((b) => ({ ...b, low: logY ? clip(b.low) : b.low + b.high < 0 ? b.low : Math.max(b.low, 0) }));
  const lines = rows.lines.map((l) => ({ ...l, y: clip(l.y) }));
  const backgrounds = d.processes.filter((p) => p.role === 'background').map((p) => p.process);
  const signals = d.processes.filter((p) => p.role === 'signal').map((p) => p.process);
  const x = {
    field: 'x',
    type: 'quantitative' as const,
    title: d.column,
    scale: { domain: [d.edges[0], d.edges[d.edges.length - 1]], nice: false, zero: false },
  };
  const yScale = logY
    ? { type: 'log' as const, domain: [floor, Math.max(floor * 10, ...tops) * 3] }
    : { zero: true, nice: true };
  const colour = {
    field: 'process',
    type: 'nominal' as const,
    title: null,
    legend: { orient: 'top' as const, columns: 4 },
    scale: {
      domain: [...backgrounds, ...signals],
      range: [
        ...backgrounds.map((_, i) => BACKGROUND_COLOURS[i % BACKGROUND_COLOURS.length]),
        ...signals.map((_, i) => SIGNAL_COLOURS[i % SIGNAL_COLOURS.length]),
      ],
    },
  };
  const outside = d.processes.reduce((a, p) => a + p.underflow + p.overflow + p.missing, 0);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: {
      text: `Cut ${describeCut(d.cut)}`,
      subtitle: [
        'stacked: background yields (weighted: sigma x L per event); lines: signal',
        'grey band: statistical uncertainty sqrt(sum w^2); dashed line: the cut',
        ...(outside !== 0
          ? [`not shown: a yield of ${outside.toPrecision(4)} outside the range or without a value`]
          : []),
      ],
    },
    width: 480,
    height: 280,
    layer: [
      {
        data: { values: boxes },
        mark: { type: 'rect', stroke: null },
        encoding: {
          x,
          x2: { field: 'x2' },
          y: { field: 'y', type: 'quantitative', title: 'events per bin (weighted)', scale: yScale },
          y2: { field: 'y2' },
          color: colour,
        },
      },
      {
        data: { values: band },
        mark: { type: 'rect', color: '#555555', opacity: 0.35 },
        encoding: { x, x2: { field: 'x2' }, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
      {
        data: { values: lines },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 2 },
        encoding: { x, y: { field: 'y', type: 'quantitative' }, color: colour },
      },
      {
        data: { values: thresholds(d.cut).map((t) => ({ x: t })) },
        mark: { type: 'rule', strokeDash: [6, 4], strokeWidth: 2, color: '#222222' },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
    ],
  };
}
