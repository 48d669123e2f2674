/**
 * Size targets as constraints, from any sensible settings (issue #21). Window cuts (`between` on
 * x and y), loss signal-efficiency, size target on the background kept fraction: on the seed toy
 * and two toys of other shapes, for each target, model kind and setting, trains on a sample and
 * measures the hard skim (a window) with the toy's own distributions (exact bivariate normal
 * probabilities, bivariate-normal.ts): its signal efficiency against the brute-force optimum of
 * all windows [x1, x2] x [y1, y2] on a quantile grid (of an independent sample) at the background
 * fraction the skim keeps (ratio >= 0.99 passes), and whether that fraction is within 0.01 of
 * the target where the target binds (at most 0.01 above it where all the signal fits in less).
 * The exact reference matters at small targets: counted on a sample, the best window is picked
 * on that sample's fluctuations (at a target of 0.01 of 100k background events, ~1000 events in
 * the window, +-3 %, where the signal kept grows about as fast as the background: a pick among
 * many windows is several per cent optimistic). The same comparison counted on the test and the
 * training samples is printed beside it. Prints one markdown row per cell as it goes, and a
 * summary.
 *
 *   npx tsx scripts/optimum-grid.ts [--events 40000] [--toys seed,tilted,wide] [--targets 0.2,0.05,0.01]
 *     [--kinds cuts,cuts-x-mlp] [--settings default,lambda10,lambda100,lambda1000,batch1024,batch16384]
 *     [--seed N] [--learning-rate R]   (training's seed, default 7; a learning rate instead of the default)
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type EventBatch, makeBatch } from '../src/batch/batch.js';
import { toyBatches } from '../src/datasets/toy.js';
import type { SelectionModel } from '../src/model/model.js';
import { hardCutPass } from '../src/model/score.js';
import { trainingSettings } from '../src/pipeline/settings.js';
import { PipelineSchema } from '../src/pipeline/schema.js';
import { memoryDataset } from '../src/training/memoryDataset.js';
import { type TrainResult, trainSelection } from '../src/training/trainer.js';
import { normalSampler, seededRandom } from '../src/util/random.js';
import { type Gaussian, windowProbability } from './bivariate-normal.js';
import { efficiencies } from './science-common.js';

export const TOYS = ['seed', 'tilted', 'wide'] as const;
export type Toy = (typeof TOYS)[number];
export const SETTINGS = ['default', 'lambda10', 'lambda100', 'lambda1000', 'batch1024', 'batch16384'] as const;
export type Setting = (typeof SETTINGS)[number];
export type Kind = 'cuts' | 'cuts-x-mlp';

/**
 * The toys' classes. seed: src/datasets/toy.ts' toy2d; tilted: a signal elongated along the
 * diagonal (correlation 0.85) over a background tilted the other way; wide: means shifted to the
 * other side of the background's, a flat narrow signal and a background three times wider than
 * the seed's in y.
 */
export const SHAPES: Record<Toy, { signal: Gaussian; background: Gaussian }> = {
  seed: { signal: { mean: [1.5, 2], cov: [0.5, 0.5, 0.2] }, background: { mean: [0, 0], cov: [9, 9, 0] } },
  tilted: { signal: { mean: [1, 1], cov: [1, 1, 0.85] }, background: { mean: [0, 0], cov: [4, 4, -1.5] } },
  wide: { signal: { mean: [-1, 2.5], cov: [0.36, 1.44, 0] }, background: { mean: [2, 0], cov: [25, 81, 0] } },
};

/** Events of a toy, eventsPerClass of each class in random order, in batches of 8192. */
export function toyEvents(toy: Toy, eventsPerClass: number, seed: number): EventBatch[] {
  if (toy === 'seed') return [...toyBatches({ kind: 'toy2d', eventsPerClass, seed, batchSize: 8192 })];
  const { signal, background } = SHAPES[toy];
  const uniform = seededRandom(`optimum-grid:${toy}:${seed}`);
  const normal = normalSampler(uniform);
  const batches: EventBatch[] = [];
  let [signalLeft, backgroundLeft] = [eventsPerClass, eventsPerClass];
  for (let start = 0; start < 2 * eventsPerClass; start += 8192) {
    const n = Math.min(8192, 2 * eventsPerClass - start);
    const [x, y, weight] = [new Float32Array(n), new Float32Array(n), new Float32Array(n).fill(1)];
    const label = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const isSignal = uniform() * (signalLeft + backgroundLeft) < signalLeft;
      if (isSignal) signalLeft--;
      else backgroundLeft--;
      const g = isSignal ? signal : background;
      // Cholesky factor of [[a, c], [c, b]].
      const l11 = Math.sqrt(g.cov[0]);
      const l21 = g.cov[2] / l11;
      const l22 = Math.sqrt(g.cov[1] - l21 * l21);
      const [u, v] = [normal(), normal()];
      x[i] = g.mean[0] + l11 * u;
      y[i] = g.mean[1] + l21 * u + l22 * v;
      label[i] = isSignal ? 1 : 0;
    }
    const eventId = BigInt64Array.from({ length: n }, (_, i) => BigInt(start + i));
    batches.push(
      makeBatch(
        { event_id: eventId, x, y, label, weight },
        { event_id: 'int64', x: 'float32', y: 'float32', label: 'int32', weight: 'float32' },
      ),
    );
  }
  return batches;
}

/** The pipeline of a cell: everything a new user would leave out is left out. */
export function cellPipeline(kind: Kind, target: number, setting: Setting, extra: Record<string, unknown> = {}) {
  const lambda = setting.startsWith('lambda') ? { lambda: Number(setting.slice('lambda'.length)) } : {};
  const batchSize = setting.startsWith('batch') ? { batchSize: Number(setting.slice('batch'.length)) } : {};
  return PipelineSchema.parse({
    name: `optimum-grid ${kind} ${target} ${setting}`,
    source: { kind: 'parquet', paths: ['memory'] },
    label: 'label',
    weight: 'weight',
    features: ['x', 'y'],
    cuts: [
      { column: 'x', op: 'between' },
      { column: 'y', op: 'between' },
    ],
    model: { kind },
    loss: { kind: 'signal-efficiency', size: { ...lambda, targetKeptFraction: target, over: 'background' } },
    training: { seed: 7, ...batchSize, ...extra },
    // Flat columns only: every event costs the same bytes, so kept bytes = kept events.
    skim: { keep: ['event_id', 'x', 'y', 'label', 'weight'] },
  });
}

export interface WindowOptimum {
  signal: number;
  background: number;
  window: Window;
}

/** x1 < x < x2, y1 < y < y2. */
export type Window = [number, number, number, number];

/** Window edges on each axis: `steps` quantiles of the sample, half over all events, half over the signal's. */
interface WindowGrid {
  gx: number[];
  gy: number[];
}

/**
 * Per class (0 background, 1 signal), the fraction of the class at x <= gx[i] and y <= gy[j], at
 * [i * gy.length + j]: the 2-D prefix sums every window's fractions are differences of.
 */
type Cumulative = [Float64Array, Float64Array];

function classValues(batches: EventBatch[]): { xs: number[][]; ys: number[][] } {
  const xs: number[][] = [[], []];
  const ys: number[][] = [[], []];
  for (const b of batches) {
    const [x, y, label] = [b.columns.x.values, b.columns.y.values, b.columns.label.values] as Float32Array[];
    for (let i = 0; i < b.length; i++) (xs[label[i] ? 1 : 0].push(x[i]), ys[label[i] ? 1 : 0].push(y[i]));
  }
  return { xs, ys };
}

export function windowGrid(batches: EventBatch[], steps = 120): WindowGrid {
  const { xs, ys } = classValues(batches);
  const grid = (v: number[][]) => {
    const all = [...v[0], ...v[1]].sort((a, b) => a - b);
    const sig = v[1].slice().sort((a, b) => a - b);
    const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
    const edges = [-Infinity, Infinity];
    for (let k = 1; k < steps / 2; k++) edges.push(q(all, (2 * k) / steps), q(sig, (2 * k) / steps));
    return [...new Set(edges)].sort((a, b) => a - b);
  };
  return { gx: grid(xs), gy: grid(ys) };
}

/** The sample's fractions, counted. */
function sampleCumulative(batches: EventBatch[], { gx, gy }: WindowGrid): Cumulative {
  const { xs, ys } = classValues(batches);
  const W = gy.length;
  const cell = (g: number[], v: number) => {
    let [lo, hi] = [0, g.length - 1];
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (g[mid] < v) lo = mid;
      else hi = mid;
    }
    return lo; // g[lo] < v <= g[lo + 1]
  };
  const out: Cumulative = [new Float64Array(gx.length * W), new Float64Array(gx.length * W)];
  for (const c of [0, 1]) {
    const p = out[c];
    for (let i = 0; i < xs[c].length; i++) p[(cell(gx, xs[c][i]) + 1) * W + cell(gy, ys[c][i]) + 1] += 1 / xs[c].length;
    for (let i = 1; i < gx.length; i++)
      for (let j = 1; j < W; j++) p[i * W + j] += p[(i - 1) * W + j] + p[i * W + j - 1] - p[(i - 1) * W + j - 1];
  }
  return out;
}

/** The toy's own fractions, exact (its Gaussians' CDF): no sample fluctuation. */
function exactCumulative(toy: Toy, { gx, gy }: WindowGrid): Cumulative {
  const { signal, background } = SHAPES[toy];
  const table = (g: Gaussian) =>
    Float64Array.from({ length: gx.length * gy.length }, (_, k) =>
      windowProbability(g, -Infinity, gx[Math.floor(k / gy.length)], -Infinity, gy[k % gy.length]),
    );
  return [table(background), table(signal)];
}

/** The window of the grid that keeps the most signal at a background fraction at most `maxBackground`. */
function bestWindow({ gx, gy }: WindowGrid, [B, S]: Cumulative, maxBackground: number): WindowOptimum {
  const W = gy.length;
  const limit = maxBackground * (1 + 1e-12);
  let best: WindowOptimum = { signal: 0, background: 0, window: [0, 0, 0, 0] };
  let bestS = -1;
  // The window gx[i1] < x <= gx[i2], gy[j1] < y <= gy[j2] (ties of a float grid with the data are
  // as good as the strict cut).
  for (let i1 = 0; i1 < gx.length - 1; i1++)
    for (let i2 = i1 + 1; i2 < gx.length; i2++)
      for (let j1 = 0; j1 < W - 1; j1++)
        for (let j2 = j1 + 1; j2 < W; j2++) {
          const b = B[i2 * W + j2] - B[i1 * W + j2] - B[i2 * W + j1] + B[i1 * W + j1];
          if (b > limit) break; // wider in y only keeps more
          const s = S[i2 * W + j2] - S[i1 * W + j2] - S[i2 * W + j1] + S[i1 * W + j1];
          if (s > bestS) {
            bestS = s;
            best = { signal: s, background: b, window: [gx[i1], gx[i2], gy[j1], gy[j2]] };
          }
        }
  return best;
}

/**
 * Brute force: every window x1 < x < x2, y1 < y < y2 with edges on a grid of `steps` quantiles of
 * each variable (half over all events, half over the signal's, where the optimum's edges lie),
 * its signal and background kept fractions from 2-D prefix sums; the most signal at a background
 * kept fraction at most `maxBackground`. Fractions counted in the sample, or with `exact` the
 * toy's own (the grid still from the sample).
 */
export function windowOptimum(batches: EventBatch[], maxBackground: number, exact?: Toy): WindowOptimum {
  const grid = windowGrid(batches);
  return bestWindow(grid, exact ? exactCumulative(exact, grid) : sampleCumulative(batches, grid), maxBackground);
}

/** The window of a model's hard cuts: 'between' cuts on x and y (either may be absent: open). */
function windowOf(model: SelectionModel): Window {
  const edges = (column: string): [number, number] => {
    const c = model.cuts.find((cut) => cut.column === column);
    if (!c) return [-Infinity, Infinity];
    if (c.op !== 'between') throw new Error(`optimum grid: the cut on ${column} is not a window`);
    return [c.low!, c.high!];
  };
  return [...edges('x'), ...edges('y')];
}

export interface CellResult {
  toy: Toy;
  target: number;
  kind: Kind;
  setting: Setting;
  epochs: number;
  /** The hard skim's signal efficiency and background kept fraction: the toy's own (exact). */
  signal: number;
  background: number;
  /** The best window (exact fractions) at that background. */
  optimum: WindowOptimum;
  ratio: number;
  /**
   * The same comparison counted on the test sample, and on the training sample (how close training
   * came to the optimum of the problem it was given). Both are optimistic for the window picked
   * on the sample itself: at a background target of 0.01 of 100k events its window holds ~1000
   * background events, +-3 %.
   */
  testRatio: number;
  trainRatio: number;
  /** The target binds: the best window within it keeps less than 99.5 % of the signal. */
  binds: boolean;
  /** Background kept within 0.01 of the target (binding), or at most 0.01 above it. */
  onTarget: boolean;
  pass: boolean;
  seconds: number;
  trained: TrainResult;
}

export async function gridCell(
  toy: Toy,
  train: EventBatch[],
  test: EventBatch[],
  target: number,
  kind: Kind,
  setting: Setting,
  extra: Record<string, unknown> = {},
): Promise<CellResult> {
  const started = performance.now();
  const pipeline = cellPipeline(kind, target, setting, extra);
  const { source, info } = memoryDataset(train);
  const trained = await trainSelection({ settings: trainingSettings(pipeline, info), source, info });
  // The skim is the window of the hard cuts (no score cut): its fractions are the toy's Gaussians'.
  const [x1, x2, y1, y2] = windowOf(trained.model);
  const { signal: sig, background: bkg } = SHAPES[toy];
  const hard = { signal: windowProbability(sig, x1, x2, y1, y2), background: windowProbability(bkg, x1, x2, y1, y2) };
  const optimum = windowOptimum(test, hard.background, toy);
  const binds = windowOptimum(test, target, toy).signal < 0.995;
  const onTarget = binds ? Math.abs(hard.background - target) <= 0.01 : hard.background <= target + 0.01;
  const ratio = hard.signal / optimum.signal;
  const sampleRatio = (batches: EventBatch[]) => {
    const counted = efficiencies(batches, (b) => hardCutPass(trained.model, b));
    return counted.signal / windowOptimum(batches, counted.background).signal;
  };
  return {
    toy,
    target,
    kind,
    setting,
    epochs: trained.history.length,
    signal: hard.signal,
    background: hard.background,
    optimum,
    ratio,
    testRatio: sampleRatio(test),
    trainRatio: sampleRatio(train),
    binds,
    onTarget,
    pass: ratio >= 0.99 && onTarget,
    seconds: (performance.now() - started) / 1000,
    trained,
  };
}

const COLUMNS = [
  ...['toy', 'target', 'model', 'setting', 'epochs', 'trained: bkg kept, sig eff', 'bkg kept', 'sig eff'],
  ...['best window, same bkg', 'ratio', 'test ratio', 'train ratio', 'binds', 'on target', 'pass', 's'],
];
export const HEADER = `| ${COLUMNS.join(' | ')} |\n|${COLUMNS.map(() => '---|').join('')}`;

export function row(r: CellResult): string {
  const f = (x: number, d = 4) => x.toFixed(d);
  // Where training alone left the hard cuts (training split), before the settling pass.
  const s = r.trained.settled;
  const trained = s ? `${f(s.keptBefore)}, ${f(s.signalBefore)}` : '-';
  const cells = [r.toy, r.target, r.kind, r.setting, r.epochs, trained, f(r.background), f(r.signal)];
  cells.push(f(r.optimum.signal), f(r.ratio), f(r.testRatio), f(r.trainRatio), r.binds ? 'yes' : 'no');
  cells.push(r.onTarget ? 'yes' : 'NO', r.pass ? 'yes' : 'NO', r.seconds.toFixed(0));
  return `| ${cells.join(' | ')} |`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '40000' },
      toys: { type: 'string', default: TOYS.join(',') },
      targets: { type: 'string', default: '0.2,0.05,0.01' },
      kinds: { type: 'string', default: 'cuts,cuts-x-mlp' },
      settings: { type: 'string', default: SETTINGS.join(',') },
      seed: { type: 'string' },
      'learning-rate': { type: 'string' },
    },
  });
  const extra = {
    ...(values.seed !== undefined && { seed: Number(values.seed) }),
    ...(values['learning-rate'] !== undefined && { learningRate: Number(values['learning-rate']) }),
  };
  const events = Number(values.events);
  console.log(`events per class: ${events} train, ${events} test; ${JSON.stringify(extra)}\n\n${HEADER}`);
  const results: CellResult[] = [];
  for (const toy of values.toys.split(',') as Toy[]) {
    const [train, test] = [toyEvents(toy, events, 1), toyEvents(toy, events, 2)];
    for (const target of values.targets.split(',').map(Number))
      for (const kind of values.kinds.split(',') as Kind[])
        for (const setting of values.settings.split(',') as Setting[]) {
          const r = await gridCell(toy, train, test, target, kind, setting, extra);
          results.push(r);
          console.log(row(r));
          for (const w of r.trained.warnings) console.error(`  ${toy} ${target} ${kind} ${setting}: warning: ${w}`);
        }
  }
  const passed = results.filter((r) => r.pass).length;
  const ratios = results.map((r) => r.ratio);
  console.log(
    `\n${passed} of ${results.length} cells pass; ` +
      `ratio ${Math.min(...ratios).toFixed(4)}-${Math.max(...ratios).toFixed(4)}`,
  );
}
