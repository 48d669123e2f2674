/**
 * A learned threshold inside an object selection against a scan. On the multi-sample example's
 * ttH (signal) and ttbar (background) events (scripts/gen-samples.ts), trains the object cut
 * count(Jet_pt > $c) >= N alone, c learned, with the loss -signal efficiency + lambda
 * max(0, B - target)^2, B the soft kept fraction of background (loss kind 'signal-efficiency',
 * size.over 'background'), slopes annealed towards the hard cut. Then it scans c in 1 GeV steps
 * for the best signal efficiency with the background kept fraction at most the target (the
 * hard cut, on the same events) and prints the learned c against the scanned one; and it skims
 * the file with the learned cuts.json and compares the rows kept with DuckDB's own WHERE.
 *
 *   npx tsx scripts/object-threshold.ts [eventsPerSample=20000] [jets=4] [target=0.2] [epochs=24]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { from, lastValueFrom, toArray } from 'rxjs';
import { type EventBatch, makeBatch } from '../src/batch/batch.js';
import { toCutsFile } from '../src/model/toCutsFile.js';
import { PipelineSchema } from '../src/pipeline/schema.js';
import { trainingSettings } from '../src/pipeline/settings.js';
import type { CutsFile } from '../src/selection/cutsFile.js';
import { compileExpr, evaluate } from '../src/selection/expr/index.js';
import { objectText, parseObjectTemplate } from '../src/selection/objectCut.js';
import { parquetSink } from '../src/sinks/parquetSink.js';
import { runSkim } from '../src/skim/runSkim.js';
import { parquetSource } from '../src/sources/parquet.js';
import { type TrainResult, trainSelection } from '../src/training/trainer.js';
import { PROCESSES, processEvents } from '../src/datasets/nanoSamples.js';

export interface ObjectThresholdOptions {
  eventsPerSample: number;
  jets: number;
  target: number;
  epochs: number;
  batchSize: number;
}

export const DEFAULTS: ObjectThresholdOptions = {
  eventsPerSample: 20_000,
  jets: 4,
  target: 0.2,
  epochs: 24,
  batchSize: 4096,
};

const COLUMN = 'count(Jet_pt > $c)';

/** ttH and ttbar events of gen-samples.ts (seeded), their Jet_pt with a label (1: ttH) and weight 1. */
export function* samples(eventsPerSample: number, seed: number): Generator<EventBatch> {
  for (const name of ['ttH', 'ttbar']) {
    const p = PROCESSES.find((x) => x.name === name)!;
    for (const b of processEvents(p, 1, { files: 1, eventsPerFile: eventsPerSample, seed })) {
      const jets = b.columns.Jet_pt;
      if (jets.kind !== 'list') throw new Error('Jet_pt is not a list');
      const n = b.length;
      yield makeBatch(
        {
          event: b.columns.event.values as BigInt64Array,
          Jet_pt: { offsets: jets.offsets, values: jets.values as Float32Array },
          label: new Int32Array(n).fill(p.role === 'signal' ? 1 : 0),
          weight: new Float32Array(n).fill(1),
        },
        { event: 'int64', Jet_pt: 'float32', label: 'int32', weight: 'float32' },
      );
    }
  }
}

export interface ScanPoint {
  c: number;
  signal: number;
  background: number;
}

/** count(Jet_pt > c) >= jets on the file, for c in 1 GeV steps: signal efficiency and background kept fraction. */
export async function scan(file: string, jets: number, from = 20, to = 300): Promise<ScanPoint[]> {
  const all = await lastValueFrom(parquetSource([file]).batches().pipe(toArray()));
  const t = parseObjectTemplate(COLUMN);
  const points: ScanPoint[] = [];
  for (let c = from; c <= to; c++) {
    let [sig, sigKept, bkg, bkgKept] = [0, 0, 0, 0];
    const hard = compileExpr(objectText(t, c));
    for (const b of all) {
      const count = evaluate(hard, b);
      const label = b.columns.label.values as Int32Array;
      for (let i = 0; i < b.length; i++) {
        const pass = count[i] >= jets ? 1 : 0;
        if (label[i]) [sig, sigKept] = [sig + 1, sigKept + pass];
        else [bkg, bkgKept] = [bkg + 1, bkgKept + pass];
      }
    }
    points.push({ c, signal: sigKept / sig, background: bkgKept / bkg });
  }
  return points;
}

export interface ObjectThresholdResult {
  learned: number;
  /** The hard cut with the learned c on the file. */
  signal: number;
  background: number;
  /** The scan's best c (most signal) with background at most the target. */
  scanned: ScanPoint;
  cuts: CutsFile;
  /** Rows the skim kept, and DuckDB's count with the hard cut written by hand. */
  skimKept: number;
  duckdbKept: number;
  /** Rows in one and not the other. */
  differing: number;
  eventsIn: number;
  trained: TrainResult;
}

export async function objectThreshold(dir: string, o: ObjectThresholdOptions): Promise<ObjectThresholdResult> {
  const file = join(dir, 'tth-ttbar.parquet');
  await lastValueFrom(from(samples(o.eventsPerSample, 1)).pipe(parquetSink(file)));
  const pipeline = PipelineSchema.parse({
    name: 'object-threshold',
    source: { kind: 'parquet', paths: [file] },
    label: 'label',
    weight: 'weight',
    cuts: [{ column: COLUMN, op: '>=', value: o.jets, element: { init: 30 } }],
    model: { kind: 'cuts' },
    loss: {
      kind: 'signal-efficiency',
      size: { lambdaStart: 1, lambda: 1000, targetKeptFraction: o.target, over: 'background' },
    },
    training: {
      epochs: o.epochs,
      batchSize: o.batchSize,
      learningRate: 0.005,
      validationFraction: 0,
      seed: 3,
      slopeSchedule: { start: 1, end: 30, kind: 'geometric' },
    },
    // Flat columns only: every event the same size, so that the background's kept size fraction is
    // its kept event fraction, which the scan counts.
    skim: { keep: ['event', 'label', 'weight'] },
  });
  const source = parquetSource([file]);
  const info = await source.describe();
  const trained = await trainSelection({ settings: trainingSettings(pipeline, info), source, info });
  const learned = trained.model.cuts[0].object!.threshold;
  const points = await scan(file, o.jets);
  const scanned = points.find((p) => p.background <= o.target) ?? points[points.length - 1];
  const at = (await scan(file, o.jets, learned, learned))[0];

  const cuts = toCutsFile(trained.model, null);
  const skim = await runSkim({ inputs: [file], cuts, outDir: join(dir, 'skim') });
  // DuckDB's own WHERE, written by hand (not diffskim's SQL twin), against the rows of the skim.
  const where = `len(list_filter(Jet_pt, x -> x::DOUBLE > '${learned}'::DOUBLE)) >= ${o.jets}`;
  const expected = `SELECT event, label, Jet_pt FROM '${file}' WHERE ${where}`;
  const got = `SELECT event, label, Jet_pt FROM '${skim.skimFiles[0]}'`;
  const db = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
  const count = async (query: string) => Number((await db.runAndReadAll(query)).getRowObjectsJson()[0].n);
  const duckdbKept = await count(`SELECT count(*) AS n FROM (${expected})`);
  const differing = await count(
    `SELECT count(*) AS n FROM ((${expected} EXCEPT ALL ${got}) UNION ALL (${got} EXCEPT ALL ${expected}))`,
  );
  db.closeSync();
  return {
    learned,
    signal: at.signal,
    background: at.background,
    scanned,
    cuts,
    skimKept: skim.eventsKept,
    duckdbKept,
    differing,
    eventsIn: skim.eventsIn,
    trained,
  };
}

async function main(): Promise<void> {
  const [events, jets, target, epochs] = process.argv.slice(2).map(Number);
  const o: ObjectThresholdOptions = {
    eventsPerSample: events || DEFAULTS.eventsPerSample,
    jets: jets || DEFAULTS.jets,
    target: target || DEFAULTS.target,
    epochs: epochs || DEFAULTS.epochs,
    batchSize: DEFAULTS.batchSize,
  };
  const dir = await mkdtemp(join(tmpdir(), 'diffskim-object-'));
  try {
    const started = performance.now();
    const r = await objectThreshold(dir, o);
    const f = (x: number) => x.toFixed(4);
    console.log(
      `${COLUMN} >= ${o.jets}, ttH vs ttbar, ${o.eventsPerSample} events each, background target ${o.target}`,
    );
    console.log(`learned c: ${r.learned.toFixed(2)} GeV (signal ${f(r.signal)}, background ${f(r.background)})`);
    const s = r.scanned;
    console.log(`scanned c: ${s.c} GeV (1 GeV steps; signal ${f(s.signal)}, background ${f(s.background)})`);
    console.log(`|learned - scanned| = ${Math.abs(r.learned - r.scanned.c).toFixed(2)} GeV`);
    console.log(`cuts.json: ${JSON.stringify(r.cuts.cuts)}`);
    console.log(
      `skim: ${r.eventsIn} in, ${r.skimKept} kept; DuckDB's WHERE: ${r.duckdbKept} rows, ${r.differing} differing`,
    );
    console.log(`backend ${r.trained.backend}; ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) await main();
