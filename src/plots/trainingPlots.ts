import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { EpochRecord } from '../training/trainState.js';
import { renderPlot, VEGA_LITE_SCHEMA } from './render.js';
import { parseObjectTemplate } from '../selection/objectCut.js';

function lineChart(title: string, rows: object[], y: string, yTitle: string, series: string): TopLevelSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title,
    width: 480,
    height: 260,
    data: { values: rows },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1 } },
      y: { field: y, type: 'quantitative', title: yTitle, scale: { zero: false } },
      color: { field: series, type: 'nominal', title: null },
    },
  };
}

/**
 * Loss per epoch (train and validation, with the classification and size terms apart), the
 * learned cut thresholds per epoch, and with column selection each column gate's P(open) per
 * epoch. Returns the PNG paths.
 */
export async function plotTraining(history: EpochRecord[], outDir: string): Promise<string[]> {
  const losses = history.flatMap((e) => [
    { epoch: e.epoch, loss: e.trainLoss, curve: 'train (total)' },
    { epoch: e.epoch, loss: e.validationLoss, curve: 'validation (total)' },
    { epoch: e.epoch, loss: e.trainMain, curve: 'train (classification)' },
    { epoch: e.epoch, loss: e.trainSize, curve: 'train (size term)' },
  ]);
  // An object cut's learned element threshold ($c) is drawn too; its fixed count threshold is not.
  const cuts = history.flatMap((e) =>
    e.cuts.flatMap((c) => [
      ...(c.fixed
        ? []
        : c.op === 'between'
          ? [
              { epoch: e.epoch, value: c.low, cut: `${c.column} > (low edge)` },
              { epoch: e.epoch, value: c.high, cut: `${c.column} < (high edge)` },
            ]
          : [{ epoch: e.epoch, value: c.value, cut: `${c.column} ${c.op}` }]),
      ...(c.object
        ? [{ epoch: e.epoch, value: c.object.threshold, cut: `$${parseObjectTemplate(c.column).param} of ${c.column}` }]
        : []),
    ]),
  );
  const kept = history.flatMap((e) => [
    { epoch: e.epoch, fraction: e.keptFraction, what: 'events (soft cuts)' },
    { epoch: e.epoch, fraction: e.keptBytesFraction, what: 'bytes (soft cuts)' },
    { epoch: e.epoch, fraction: e.validationAuc, what: 'validation AUC' },
  ]);
  const plots = [
    await renderPlot(
      lineChart('Loss per epoch', losses, 'loss', 'loss (lower is better)', 'curve'),
      join(outDir, 'loss'),
    ),
    await renderPlot(
      lineChart('Cut thresholds per epoch', cuts, 'value', 'threshold (column units)', 'cut'),
      join(outDir, 'cuts'),
    ),
    await renderPlot(
      lineChart('Kept fraction and AUC per epoch (validation)', kept, 'fraction', 'fraction', 'what'),
      join(outDir, 'kept'),
    ),
  ];
  const gates = history.flatMap((e) =>
    (e.columns ?? []).filter((c) => c.candidate).map((c) => ({ epoch: e.epoch, open: c.open, column: c.column })),
  );
  if (gates.length > 0)
    plots.push(
      await renderPlot(
        lineChart('Column gates per epoch: P(open), validation', gates, 'open', 'P(gate open)', 'column'),
        join(outDir, 'gates'),
      ),
    );
  return plots.map((p) => p.png);
}
