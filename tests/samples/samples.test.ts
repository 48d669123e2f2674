import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBatch } from '../../src/batch/batch.js';
import type { ReadOptions } from '../../src/sources/types.js';
import { generateSamples } from '../../src/datasets/nanoSamples.js';
import { mixedSource, MIX_LABEL, MIX_SAMPLE, MIX_WEIGHT } from '../../src/samples/mix.js';
import { type DataConfig, resolveSamples } from '../../src/samples/resolve.js';
import { checkSamples } from '../../src/samples/sample.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { startServer } from '../../src/grpc/server.js';
import { PipelineSchema } from '../../src/pipeline/schema.js';
import { labelAndWeight, trainingSettings } from '../../src/pipeline/settings.js';
import { evaluateModel } from '../../src/eval/evaluate.js';
import { trainSelection } from '../../src/training/trainer.js';
import { sql, tempDir } from '../parquet/helpers.js';

const LUMI = 59_700;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await generateSamples(dir, { files: 2, eventsPerFile: 1500, seed: 3 });
  // A sample with MET_pt in float64.
  await sql(
    `COPY (SELECT * REPLACE (MET_pt::DOUBLE AS MET_pt) FROM read_parquet('${join(dir, 'WJets')}/*.parquet')) ` +
      `TO '${join(dir, 'wjets_double.parquet')}' (FORMAT parquet)`,
  );
  // A sample without MET_phi (another NanoAOD version, say).
  await sql(
    `COPY (SELECT * EXCLUDE (MET_phi) FROM read_parquet('${join(dir, 'ttbar')}/*.parquet')) ` +
      `TO '${join(dir, 'ttbar_noPhi.parquet')}' (FORMAT parquet)`,
  );
});
afterAll(() => cleanup?.());

const events = (sample: string) => `read_parquet('${join(dir, sample)}/*.parquet')`;
const parquet = (sample: string) => ({ kind: 'parquet' as const, paths: [`${sample}/`] });

/** The four samples, with each source of sum(w_gen) and a per-event factor on one of them. */
function data(): DataConfig {
  return {
    name: 'test',
    luminosity: LUMI,
    samples: [
      { name: 'ttH', role: 'signal', xsec: 0.5071, source: parquet('ttH'), runs: ['ttH.runs.parquet'], factors: [] },
      // genWeight summed over the sample's events (no sum, no Runs table), times a scale-factor-like column.
      { name: 'ttbar', role: 'background', xsec: 831.76, source: parquet('ttbar'), factors: ['abs(MET_phi)'] },
      {
        name: 'WJets',
        role: 'background',
        xsec: 61526.7,
        source: parquet('WJets'),
        sumGenWeights: 1234.5,
        factors: [],
      },
      // No generator weight: each event weighs 1, the sum is the number of events.
      { name: 'QCD', role: 'background', xsec: 31630, source: parquet('QCD_HT500to700'), genWeight: null, factors: [] },
    ],
  };
}

async function allBatches(
  source: ReturnType<typeof mixedSource>,
  columns: string[],
  batchRows?: number,
): Promise<EventBatch[]> {
  return lastValueFrom(source.batches({ columns, batchRows }).pipe(toArray()));
}

describe('samples: normalisation', () => {
  it('takes sum(w_gen) from the sample, its Runs table or its summed genWeight, as DuckDB sums them', async () => {
    const logged: string[] = [];
    const samples = await resolveSamples(data(), dir, (l) => logged.push(l));
    const norm = Object.fromEntries(samples.map((s) => [s.name, s.normalisation!]));
    const [{ runs }] = await sql(`SELECT sum(genEventSumw) AS runs FROM '${join(dir, 'ttH.runs.parquet')}'`);
    const [{ summed }] = await sql(`SELECT sum(genWeight::DOUBLE) AS summed FROM ${events('ttbar')}`);
    expect(norm.ttH.from).toBe('Runs.genEventSumw');
    expect(norm.ttH.sumGenWeights).toBeCloseTo(Number(runs), 9);
    expect(norm.ttbar.from).toBe('summed column');
    expect(Math.abs(norm.ttbar.sumGenWeights / Number(summed) - 1)).toBeLessThan(1e-12);
    expect(norm.WJets).toMatchObject({ from: 'given', sumGenWeights: 1234.5 });
    expect(norm.QCD).toMatchObject({ from: 'event count', sumGenWeights: 3000 });
    // Only the summed column costs a pass, and the log says so.
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/sample 'ttbar'.*summing 'genWeight' over its 3000 events \(one extra pass\)/);
    for (const s of samples)
      expect(s.normalisation!.factor).toBe((s.normalisation!.xsec * LUMI) / s.normalisation!.sumGenWeights);
  });

  it("gives each sample's events xsec x L / sum(w_gen) x w_gen x factors, as DuckDB sums them (1e-9)", async () => {
    const samples = await resolveSamples(data(), dir);
    const batches = await allBatches(mixedSource(samples, 1), ['MET_pt', MIX_LABEL, MIX_WEIGHT, MIX_SAMPLE]);
    const sums = samples.map(() => ({ weight: 0, events: 0, signal: 0 }));
    for (const b of batches) {
      const [k, w, y] = [MIX_SAMPLE, MIX_WEIGHT, MIX_LABEL].map((c) => b.columns[c].values);
      for (let i = 0; i < b.length; i++) {
        const s = sums[Number(k[i])];
        s.weight += Number(w[i]);
        s.events++;
        s.signal += Number(y[i]);
      }
    }
    const sumw = {
      ttH: `(SELECT sum(genEventSumw) FROM '${join(dir, 'ttH.runs.parquet')}')`,
      ttbar: `(SELECT sum(genWeight::DOUBLE) FROM ${events('ttbar')})`,
      WJets: '1234.5',
      QCD: `(SELECT count(*) FROM ${events('QCD_HT500to700')})`,
    };
    const perEvent = {
      ttH: 'genWeight',
      ttbar: 'genWeight::DOUBLE * abs(MET_phi::DOUBLE)',
      WJets: 'genWeight',
      QCD: '1',
    };
    const folder = { ttH: 'ttH', ttbar: 'ttbar', WJets: 'WJets', QCD: 'QCD_HT500to700' };
    for (const [k, s] of samples.entries()) {
      const name = s.name as keyof typeof sumw;
      const [{ expected, n }] = await sql(
        `SELECT ${s.normalisation!.xsec} * ${LUMI} / ${sumw[name]} * sum((${perEvent[name]})::DOUBLE) AS expected, ` +
          `count(*) AS n FROM ${events(folder[name])}`,
      );
      expect(sums[k].events).toBe(Number(n));
      expect(Math.abs(sums[k].weight / Number(expected) - 1)).toBeLessThan(1e-9);
      expect(sums[k].signal).toBe(s.role === 'signal' ? Number(n) : 0);
    }
  });
});

describe('samples: a gRPC sample', () => {
  it("is normalised and mixed as the same files read locally (its genWeight summed over the server's stream)", async () => {
    const server = await startServer({ dataRoots: [dir], ...(await localServerOptions()) });
    try {
      const remote = data();
      remote.samples![1] = {
        ...remote.samples![1],
        source: { kind: 'grpc', address: `127.0.0.1:${server.port}`, paths: ['ttbar'] },
      };
      const [local, served] = [await resolveSamples(data(), dir), await resolveSamples(remote, dir)];
      expect(served[1].normalisation).toEqual(local[1].normalisation);
      const totals = async (samples: typeof local) => {
        const sums = samples.map(() => 0);
        for (const b of await allBatches(mixedSource(samples, 1), [MIX_WEIGHT, MIX_SAMPLE])) {
          const [w, k] = [b.columns[MIX_WEIGHT].values, b.columns[MIX_SAMPLE].values];
          for (let i = 0; i < b.length; i++) sums[Number(k[i])] += Number(w[i]);
        }
        return sums;
      };
      expect(await totals(served)).toEqual(await totals(local));
    } finally {
      await server.close(500);
    }
  });
});

describe('samples: the mix', () => {
  const order = (batches: EventBatch[]) =>
    batches.map((b) => `${b.columns[MIX_SAMPLE].values[0]}:${b.length}:${b.columns.event.values[0]}`);

  it('is one stream for a seed, another for another seed, with every event of every sample in order', async () => {
    const samples = await resolveSamples(data(), dir);
    const columns = ['event', MIX_SAMPLE];
    const read = (seed: number) => allBatches(mixedSource(samples, seed), columns, 500);
    const [a, again, other] = [await read(1), await read(1), await read(2)];
    expect(order(again)).toEqual(order(a));
    expect(order(other)).not.toEqual(order(a));
    // Each sample's events, in the order of its files: event numbers 1 .. 3000.
    for (const [k] of samples.entries()) {
      const seen = a
        .filter((b) => b.columns[MIX_SAMPLE].values[0] === k)
        .flatMap((b) => Array.from(b.columns.event.values as BigInt64Array, Number));
      expect(seen).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
    }
    // Interleaved: every sample in the first half of the stream (24 batches of 500 events, 4 samples).
    const samplesOfFirstHalf = new Set(a.slice(0, a.length / 2).map((b) => b.columns[MIX_SAMPLE].values[0]));
    expect(samplesOfFirstHalf.size).toBe(4);
  });

  it('with one sample read open at a time (the others closed and resumed) is the stream of every read open', async () => {
    const samples = await resolveSamples(data(), dir);
    const columns = ['event', 'MET_pt', MIX_SAMPLE, MIX_WEIGHT];
    const values = (batches: EventBatch[]) =>
      batches.map((b) => columns.map((c) => Array.from(b.columns[c].values as ArrayLike<unknown>, String)));
    const allOpen = await allBatches(mixedSource(samples, 1, samples.length), columns, 500);
    const oneOpen = await allBatches(mixedSource(samples, 1, 1), columns, 500);
    expect(values(oneOpen)).toEqual(values(allOpen));
    // Resumed reads cross file boundaries (2 files of 1500 events a sample, batches of 500).
    expect(oneOpen.reduce((n, b) => n + b.length, 0)).toBe(4 * 3000);
  });

  it("several samples' reads decode on one thread and share one read's read-ahead; one sample's is plain", async () => {
    const asked = async (count: number, openReads: number) => {
      const samples = (await resolveSamples(data(), dir)).slice(0, count);
      const options: ReadOptions[] = [];
      const spied = samples.map((s) => {
        const source = s.opened.source;
        const batches = (o?: ReadOptions) => (options.push(o ?? {}), source.batches(o));
        return { ...s, opened: { ...s.opened, source: { ...source, batches } } };
      });
      await allBatches(mixedSource(spied, 1, openReads), ['event', MIX_SAMPLE], 500);
      return options;
    };
    for (const openReads of [4, 2]) {
      const options = await asked(4, openReads);
      expect(options.every((o) => o.oneThread === true)).toBe(true);
      expect(options.map((o) => o.readAheadMB! * openReads)).toEqual(options.map(() => 1));
    }
    const alone = await asked(1, 8);
    expect(alone.map((o) => [o.oneThread, o.readAheadMB])).toEqual([[undefined, undefined]]);
  });

  it('a Parquet source started at an event reads from that event on, as DuckDB numbers them', async () => {
    const source = (await resolveSamples(data(), dir))[1].opened.source;
    expect(source.startsAnywhere).toBe(true);
    for (const startRow of [0, 700, 1500, 2999, 3000]) {
      const batches = await lastValueFrom(
        source.batches({ columns: ['event'], batchRows: 400, startRow }).pipe(toArray()),
      );
      const events = batches.flatMap((b) => Array.from(b.columns.event.values as BigInt64Array, Number));
      const expected = await sql(
        `SELECT event::INTEGER AS e FROM read_parquet('${join(dir, 'ttbar')}/*.parquet', filename = true, file_row_number = true) ` +
          `ORDER BY filename, file_row_number OFFSET ${startRow}`,
      );
      expect(events).toEqual(expected.map((r) => r.e));
    }
  });
});

describe('samples: columns', () => {
  it('a column the pipeline needs that a sample lacks is an error naming the sample and the column', async () => {
    const config = data();
    config.samples![1] = {
      ...config.samples![1],
      factors: [],
      source: { kind: 'parquet', paths: ['ttbar_noPhi.parquet'] },
    };
    const samples = await resolveSamples(config, dir);
    expect(() => checkSamples(samples, { features: ['MET_pt'], cuts: ['MET_pt'] })).not.toThrow();
    expect(() => checkSamples(samples, { features: ['MET_pt', 'MET_phi'], cuts: [] })).toThrow(
      /sample 'ttbar' has no column 'MET_phi' \(a feature\).*ttbar_noPhi\.parquet/,
    );
    expect(() => checkSamples(samples, { features: [], cuts: ['abs(MET_phii)'] })).toThrow(
      /sample 'ttH' has no column 'MET_phii' \(a cut variable\); did you mean 'MET_phi'\?/,
    );
    // The mix, asked for it all the same, says the same.
    await expect(allBatches(mixedSource(samples, 1), ['MET_phi'])).rejects.toThrow(
      /sample 'ttbar' has no column 'MET_phi'/,
    );
  });

  it('a column the samples hold with different types is an error naming both samples', async () => {
    const config = data();
    config.samples![2] = { ...config.samples![2], source: { kind: 'parquet', paths: ['wjets_double.parquet'] } };
    const mix = mixedSource(await resolveSamples(config, dir), 1);
    expect((await mix.describe()).schema.map((f) => f.name)).not.toContain('MET_pt');
    const read = await allBatches(mix, ['MET_phi']);
    expect(read.reduce((n, b) => n + b.length, 0)).toBe(4 * 3000);
    await expect(allBatches(mix, ['MET_pt'])).rejects.toThrow(
      /column 'MET_pt' is float32 in sample 'ttH' but float64 in sample 'WJets'/,
    );
  });

  it("a sample's generator weight or factor used as a feature is an error", async () => {
    const samples = await resolveSamples(data(), dir);
    expect(() => checkSamples(samples, { features: ['genWeight'], cuts: [] })).toThrow(
      /sample 'ttH': 'genWeight' is its generator weight and also a feature/,
    );
    expect(() => checkSamples(samples, { features: [], cuts: ['MET_phi'] })).toThrow(
      /sample 'ttbar': 'MET_phi' is a weight factor and also a cut variable/,
    );
  });
});

describe('samples: negative weights', () => {
  /** The negative-weight warnings of one epoch of training on the samples' mix, and of evaluating its model. */
  async function warnings(config: DataConfig): Promise<string[]> {
    const pipeline = PipelineSchema.parse({
      name: 'signs',
      luminosity: config.luminosity,
      samples: config.samples,
      cuts: [{ column: 'MET_pt', op: '>' }],
      model: { kind: 'cuts' },
      training: { epochs: 1, batchSize: 1024, seed: 5, shuffleBuffer: 4096 },
    });
    const source = mixedSource(await resolveSamples(pipeline, dir), pipeline.training.seed);
    const info = await source.describe();
    const r = await trainSelection({ settings: trainingSettings(pipeline, info), source, info, backend: 'fused' });
    const e = await evaluateModel({ source, model: r.model, ...labelAndWeight(pipeline), quiet: true });
    const negative = (w: string[]) => w.filter((line) => line.startsWith('negative weights'));
    return [...negative(r.warnings), ...negative(e.warnings)];
  }

  it('a sample whose negative weights dominate its yield is named in training and eval, its class not', async () => {
    expect(await warnings(data())).toEqual([]);
    // ttbar's weights turned negative: its yield (DuckDB's sum, below) changes sign, while the
    // background class, dominated by WJets and QCD, stays positive.
    const [{ s }] = await sql(`SELECT sum(genWeight * abs(MET_phi))::DOUBLE AS s FROM ${events('ttbar')}`);
    expect(s).toBeGreaterThan(0);
    const config = data();
    config.samples![1] = { ...config.samples![1], factors: ['-abs(MET_phi)'] };
    const [line, evalLine, ...more] = await warnings(config);
    expect(more).toEqual([]);
    expect(evalLine).toBe(line);
    expect(line).toMatch(/^negative weights \('the samples' event weights'\) dominate: sample 'ttbar' sums to -\d/);
    expect(line).not.toMatch(/background|signal|'ttH'|'WJets'|'QCD'/);
  });
});

describe('samples: yields of the significance losses', () => {
  /** The validation loss of one epoch of S/sqrt(B) training on the samples' mix, with these loss keys. */
  async function validationLoss(yields: { signalYield?: number; backgroundYield?: number }): Promise<number> {
    const config = data();
    const pipeline = PipelineSchema.parse({
      name: 'yields',
      luminosity: config.luminosity,
      samples: config.samples,
      cuts: [{ column: 'MET_pt', op: '>' }],
      model: { kind: 'cuts' },
      loss: { kind: 's-over-sqrt-b', ...yields },
      training: { epochs: 1, batchSize: 1024, seed: 5, shuffleBuffer: 4096 },
    });
    const source = mixedSource(await resolveSamples(pipeline, dir), pipeline.training.seed);
    const info = await source.describe();
    const r = await trainSelection({ settings: trainingSettings(pipeline, info), source, info, backend: 'fused' });
    return r.history[0].validationLoss;
  }

  it("default to the samples' weighted totals over all events (DuckDB's sums); explicit keys win", async () => {
    const config = data();
    const total = { signal: 0, background: 0 };
    for (const s of config.samples!) {
      const folder = s.name === 'QCD' ? 'QCD_HT500to700' : s.name;
      const w = s.genWeight === null ? '1' : 'genWeight::DOUBLE';
      const perEvent = s.factors.length ? `${w} * abs(MET_phi::DOUBLE)` : w;
      const sumw = s.runs
        ? `(SELECT sum(genEventSumw) FROM '${join(dir, 'ttH.runs.parquet')}')`
        : (s.sumGenWeights ?? `(SELECT sum(${w}) FROM ${events(folder)})`);
      const [{ y }] = await sql(`SELECT ${s.xsec} * ${LUMI} / ${sumw} * sum(${perEvent}) AS y FROM ${events(folder)}`);
      total[s.role] += Number(y);
    }
    const byDefault = await validationLoss({});
    const explicit = await validationLoss({ signalYield: total.signal, backgroundYield: total.background });
    expect(Math.abs(byDefault / explicit - 1)).toBeLessThan(1e-9);
    // S/sqrt(B) scales with the signal yield: other keys give another loss.
    const doubled = await validationLoss({ signalYield: 2 * total.signal, backgroundYield: total.background });
    expect(doubled / explicit).toBeCloseTo(2, 6);
  });
});
