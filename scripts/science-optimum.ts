/**
 * diffskim's learned hard cuts against the brute-force optimum. For toy2d and toy6d and each
 * target background kept fraction, trains a cuts-only model ('>' on x, y, and on the noise
 * features n1..n4 for toy6d) with the loss -signal efficiency and the constraint B <= target,
 * B the soft kept fraction of background (loss kind 'signal-efficiency', size.over
 * 'background'; the multiplier starts at lambdaStart, lambda is then unused), slope annealed so
 * the soft cuts end close to hard ones. With '>' cuts the frontier of signal against background
 * is not concave at 0.05 (the signal sits inside the background): the augmented Lagrangian's
 * quadratic part is what keeps the cuts there (src/training/sizeConstraint.ts). On an independent
 * test sample it compares the hard cuts' signal efficiency with the best rectangular cut
 * x > cx, y > cy at the same background kept fraction (grid over cx, every cy). For toy6d it
 * also shows the grid that may add a cut on a noise feature, which thins both classes alike (a
 * prescale): with '>' cuts only, the x-y frontier is not concave at small background
 * fractions, so there a prescale beats every rectangle. Gradient descent from open cuts finds
 * the rectangle (the noise cuts open, fall below the data and lose their gradient).
 *
 *   npx tsx scripts/science-optimum.ts [eventsPerClass=100000] [epochs=30] [batchSize=8192]
 */
import { pathToFileURL } from 'node:url';
import type { EventBatch } from '../src/batch/batch.js';
import { hardCutPass, softCutWeights } from '../src/model/score.js';
import { type TrainResult, trainSelection } from '../src/training/trainer.js';
import { trainingSettings } from '../src/pipeline/settings.js';
import { efficiencies, type GridOptimum, gridOptimum, memoryDataset, toyData, toyPipeline } from './science-common.js';

export const NOISE = ['n1', 'n2', 'n3', 'n4'];

export interface OptimumRow {
  kind: 'toy2d' | 'toy6d';
  target: number;
  /** Hard cuts on the test sample. */
  signal: number;
  background: number;
  /** Grid optimum of x > cx, y > cy on the test sample at background <= the achieved background. */
  gridSignal: number;
  grid: string;
  ratio: number;
  /** toy6d: the grid optimum when a noise cut (a prescale) may be added, and its cuts. */
  gridWithNoiseCut: { signal: number; grid: string } | null;
  cuts: string;
  /** toy6d: per noise cut, the fraction of events it removes alone as a hard cut, and its smallest soft weight on the data. */
  noise: { removed: number; minWeight: number }[];
  trained: TrainResult;
}

export interface OptimumOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** With the target, lambdaStart is where the multiplier starts (lambda is unused then). */
  lambdaStart: number;
  lambda: number;
  slopeEnd: number;
}

export const DEFAULTS: OptimumOptions = {
  epochs: 30,
  batchSize: 2048,
  learningRate: 0.05,
  lambdaStart: 0.3,
  lambda: 1000,
  slopeEnd: 10,
};

export async function optimumRow(
  kind: 'toy2d' | 'toy6d',
  train: EventBatch[],
  test: EventBatch[],
  target: number,
  o: OptimumOptions,
): Promise<OptimumRow> {
  const noise = kind === 'toy6d' ? NOISE : [];
  const pipeline = toyPipeline({
    features: ['x', 'y', ...noise],
    cuts: ['x', 'y', ...noise].map((column) => ({ column, op: '>' })),
    model: { kind: 'cuts' },
    loss: {
      kind: 'signal-efficiency',
      size: { lambdaStart: o.lambdaStart, lambda: o.lambda, targetKeptFraction: target, over: 'background' },
    },
    training: {
      epochs: o.epochs,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      validationFraction: 0.2,
      seed: 7,
      slopeSchedule: { start: 1, end: o.slopeEnd, kind: 'geometric' },
    },
    // Flat columns only: every event costs the same bytes, so kept bytes = kept events.
    skim: { keep: ['event_id', 'x', 'y', 'label', 'weight', ...noise] },
  });
  const { source, info } = memoryDataset(train);
  const trained = await trainSelection({ settings: trainingSettings(pipeline, info), source, info });
  const m = trained.model;
  const hard = efficiencies(test, (b) => hardCutPass(m, b));
  const grid = gridOptimum(test, hard.background);
  const show = (g: GridOptimum) =>
    `x > ${g.cx.toFixed(3)}, y > ${g.cy.toFixed(3)}${g.prescale < 1 ? `, noise cut keeping ${g.prescale.toFixed(3)}` : ''}`;
  // toy6d: diffskim may also cut on the noise features; so may this grid (a prescale).
  const withNoise = kind === 'toy6d' ? gridOptimum(test, hard.background, { noiseCut: true }) : null;
  const noiseStats = noise.map((_, k) => {
    const one = { ...m, cuts: [m.cuts[2 + k]] };
    let removed = 0;
    let minWeight = 1;
    let events = 0;
    for (const b of test) {
      removed += hardCutPass(one, b).reduce((s, p) => s + 1 - p, 0);
      minWeight = Math.min(minWeight, ...softCutWeights(one, b));
      events += b.length;
    }
    return { removed: removed / events, minWeight };
  });
  const cuts = m.cuts.map((c) => `${c.column} > ${c.value!.toFixed(3)}`).join(', ');
  return {
    kind,
    target,
    signal: hard.signal,
    background: hard.background,
    gridSignal: grid.signal,
    grid: show(grid),
    ratio: hard.signal / grid.signal,
    cuts,
    noise: noiseStats,
    trained,
    gridWithNoiseCut: withNoise && { signal: withNoise.signal, grid: show(withNoise) },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [eventsPerClass = 100_000, epochs = DEFAULTS.epochs, batchSize = 8192] = process.argv.slice(2).map(Number);
  const options = { ...DEFAULTS, epochs, batchSize };
  console.log(`events per class: ${eventsPerClass} train, ${eventsPerClass} test; ${JSON.stringify(options)}`);
  console.log('toy    target  bkg kept  sig eff  grid sig eff  ratio   soft bkg kept  cuts');
  for (const kind of ['toy2d', 'toy6d'] as const) {
    const train = toyData(kind, eventsPerClass, 1);
    const test = toyData(kind, eventsPerClass, 2);
    for (const target of [0.5, 0.2, 0.05]) {
      const r = await optimumRow(kind, train, test, target, options);
      console.log(
        `${kind}  ${target.toFixed(2).padStart(6)}  ${r.background.toFixed(4).padStart(8)}  ${r.signal.toFixed(4).padStart(7)}  ${r.gridSignal.toFixed(4).padStart(12)}  ${r.ratio.toFixed(4)}  ${r.trained.keptBytesFractionPredicted.toFixed(4).padStart(11)}  ${r.cuts}  (grid: ${r.grid})`,
      );
      const g = r.gridWithNoiseCut;
      if (g)
        console.log(
          `         grid with a noise cut allowed: sig eff ${g.signal.toFixed(4)} (ratio ${(r.signal / g.signal).toFixed(4)}; ${g.grid})`,
        );
      for (const [k, n] of r.noise.entries())
        console.log(
          `         noise cut ${NOISE[k]}: removes ${(100 * n.removed).toFixed(3)} % of events alone, smallest soft weight ${n.minWeight.toFixed(4)}`,
        );
      // Noise cuts that opened fully warn that their gradient vanished: that is the point here.
      for (const w of r.trained.warnings)
        if (!NOISE.some((n) => w.includes(`"column":"${n}"`))) console.log(`         warning: ${w}`);
    }
  }
}
