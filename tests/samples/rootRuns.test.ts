import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mixedSource, MIX_SAMPLE, MIX_WEIGHT } from '../../src/samples/mix.js';
import { type DataConfig, resolveSamples } from '../../src/samples/resolve.js';
import type { SampleConfig } from '../../src/samples/config.js';
import { tempDir } from '../parquet/helpers.js';
import { NANO, referenceRead } from '../root/reference.js';

/** coffea's NanoAOD test files (BSD-3-Clause, tests/fixtures/root-corpus/coffea/LICENSE), written by CMSSW. */
const DY = 'tests/fixtures/root-corpus/coffea/nano_dy.root';
const DATA = 'tests/fixtures/root-corpus/coffea/nano_dimuon.root';
const LUMI = 59_700;
const XSEC = 6077.22;
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  // Two files of one sample: its sum of generator weights is the sum over both files' Runs trees.
  mkdirSync(join(dir, 'DY'));
  for (const f of ['nano_1.root', 'nano_2.root']) copyFileSync(DY, join(dir, 'DY', f));
  mkdirSync(join(dir, 'mixed'));
  copyFileSync(DY, join(dir, 'mixed', 'nano_1.root'));
  copyFileSync(NANO, join(dir, 'mixed', 'open_data.root'));
});
afterAll(() => cleanup?.());

const sample = (
  name: string,
  paths: string[],
  extra: Partial<SampleConfig> = {},
  branches = ['MET_pt', 'genWeight'],
): SampleConfig => ({
  name,
  role: 'background',
  xsec: XSEC,
  source: { kind: 'root', paths, tree: 'Events', branches },
  factors: [],
  ...extra,
});
const data = (...samples: SampleConfig[]): DataConfig => ({ name: 'dy', luminosity: LUMI, samples });
const failure = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: Error) => e.message,
  );

describe("samples: a ROOT sample's sum of generator weights from its files' NanoAOD Runs tree", () => {
  it("sums the Runs trees' genEventSumw_ (pre-v9 name) over the files, as jsroot reads it, and weighs events by it", async () => {
    const logged: string[] = [];
    const [dy] = await resolveSamples(data(sample('DY', ['DY/'])), dir, (l) => logged.push(l));
    const runs = await referenceRead(DY, 'Runs', ['genEventSumw_']);
    const perFile = runs.genEventSumw_.reduce<number>((s, v) => s + (v as number), 0);
    expect(dy.normalisation).toMatchObject({ from: 'Runs.genEventSumw', xsec: XSEC, luminosity: LUMI });
    expect(Math.abs(dy.normalisation!.sumGenWeights / (2 * perFile) - 1)).toBeLessThan(1e-12);
    // The Runs tree counts the whole generated dataset, not the 2 x 40 events the files keep.
    const { genWeight } = await referenceRead(DY, 'Events', ['genWeight']);
    const kept = 2 * genWeight.reduce<number>((s, v) => s + (v as number), 0);
    expect(Math.abs(kept)).toBeLessThan(1e-3 * dy.normalisation!.sumGenWeights);
    expect(logged).toEqual([]); // no summing pass

    // Each event weighs xsec x L x genWeight / sum(genWeight), signed (9 of the 40 are negative).
    const batches = await lastValueFrom(
      mixedSource([dy], 1)
        .batches({ columns: [MIX_WEIGHT, MIX_SAMPLE] })
        .pipe(toArray()),
    );
    const weights = batches.flatMap((b) => Array.from(b.columns[MIX_WEIGHT].values as ArrayLike<number>));
    expect(weights).toHaveLength(80);
    const expected = (XSEC * LUMI * kept) / (2 * perFile);
    const total = weights.reduce((s, w) => s + w, 0);
    expect(Math.abs(total / expected - 1)).toBeLessThan(1e-9);
    expect(weights.filter((w) => w < 0)).toHaveLength(2 * genWeight.filter((w) => (w as number) < 0).length);
  });

  it('refuses a sample whose files have a Runs tree only in part, naming the file without one', async () => {
    const message = await failure(resolveSamples(data(sample('mixed', ['mixed/'])), dir));
    expect(message).toMatch(/sample 'mixed': .*open_data\.root has no Runs tree, but other files of the sample/);
    expect(message).toMatch(/give the sample its sumGenWeights/);
  });

  it("divides a sample read without generator weights by the Runs trees' genEventCount_ (generated events)", async () => {
    const [dy] = await resolveSamples(data(sample('DY', ['DY/'], { genWeight: null })), dir);
    const { genEventCount_ } = await referenceRead(DY, 'Runs', ['genEventCount_']);
    expect(dy.normalisation).toMatchObject({
      from: 'Runs.genEventCount',
      sumGenWeights: 2 * Number(genEventCount_[0]),
    });
  });

  it('counts events when a Runs tree has no generator sums and the sample no generator weight (collision data)', async () => {
    const [data1] = await resolveSamples(data(sample('data', [DATA], { genWeight: null }, ['MET_pt', 'run'])), '.');
    expect(data1.normalisation).toMatchObject({ from: 'event count', sumGenWeights: 40 });
  });

  it("names the sample, the file and the fix when a weighted sample's Runs tree has no generator sums", async () => {
    const message = await failure(
      resolveSamples(data(sample('data', [DATA], { genWeight: 'run' }, ['MET_pt', 'run'])), '.'),
    );
    expect(message).toMatch(
      /sample 'data': the Runs tree of .*nano_dimuon\.root has no genEventSumw or genEventSumw_; give the sample its sumGenWeights/,
    );
  });
});
