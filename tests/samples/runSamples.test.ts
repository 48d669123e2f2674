import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runPipeline, type RunReport } from '../../src/pipeline/runPipeline.js';
import { type CutsFile, cutsToSql } from '../../src/selection/cutsFile.js';
import type { Evaluation } from '../../src/eval/evaluate.js';
import { sql, tempDir } from '../parquet/helpers.js';
import { CHROMIUM, embeddedPngSizes, renderInChromium } from '../helpers/chromium.js';
import { toolMissing } from '../helpers/tools.js';
import { cli } from '../shard/helpers.js';
import { duckdbYields, exampleSamples, GEN, LUMI_PB } from './helpers.js';
import { generateSamples } from '../../src/datasets/nanoSamples.js';

// A run over the generated multi-sample example: every sample has nano_1.parquet and nano_2.parquet,
// and WJets an extra per-event factor (|MET_phi|).
let dir: string;
let cleanup: () => Promise<void>;
let report: RunReport;
let cuts: CutsFile;
const out = () => join(dir, 'run');
const samples = () => exampleSamples(join(dir, 'data'));
const relative = (a: number, b: number) => Math.abs(a / b - 1);

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await generateSamples(join(dir, 'data'), GEN);
  const pipeline = {
    name: 'samples-run',
    luminosity: LUMI_PB,
    samples: samples(),
    features: ['MET_pt', 'count(Jet_pt)'],
    cuts: [
      { column: 'MET_pt', op: '>' },
      { column: 'count(Jet_pt)', op: '>' },
    ],
    model: { hidden: [4] },
    training: { epochs: 2, batchSize: 2048, seed: 3 },
    loss: { kind: 'bce', size: { lambda: 0.3 }, sigmaB: 0.2 },
    plots: { logY: true },
  };
  await writeFile(join(dir, 'p.yaml'), stringify(pipeline));
  report = await runPipeline(join(dir, 'p.yaml'), { outDir: out() });
  cuts = JSON.parse(await readFile(join(out(), 'cuts.json'), 'utf8')) as CutsFile;
}, 240_000);

afterAll(() => cleanup?.());

describe('run over samples', () => {
  it('writes each sample to skim/<sample>/, same-named files apart, each exactly what DuckDB keeps', async () => {
    const written = (await readdir(join(out(), 'skim'), { recursive: true })).filter((f) => f.endsWith('.parquet'));
    const expected = samples().flatMap((s) => ['nano_1', 'nano_2'].map((f) => join(s.name, `${f}.skim.parquet`)));
    expect(written.sort()).toEqual(expected.sort());
    const where = cutsToSql(cuts.cuts);
    for (const s of samples())
      for (const f of ['nano_1', 'nano_2']) {
        const input = `read_parquet('${join(s.source.paths[0], `${f}.parquet`)}')`;
        const skim = `read_parquet('${join(out(), 'skim', s.name, `${f}.skim.parquet`)}')`;
        const [r] = await sql(
          `SELECT (SELECT count(*) FROM ${input} WHERE ${where}) AS kept, (SELECT count(*) FROM ${skim}) AS written,
             (SELECT count(*) FROM (SELECT * FROM ${input} WHERE ${where} EXCEPT ALL SELECT * FROM ${skim})) AS missing`,
        );
        expect(Number(r.written)).toBe(Number(r.kept));
        expect(Number(r.missing)).toBe(0);
        expect(Number(r.kept)).toBeGreaterThan(0);
      }
  });

  it('reports events, yields, efficiency and bytes per sample as DuckDB computes them, and counts add up', async () => {
    const rows = report.samples!.samples;
    expect(rows.map((r) => r.name)).toEqual(samples().map((s) => s.name));
    for (const [i, s] of samples().entries()) {
      const r = rows[i];
      const ref = await duckdbYields(s, cuts.cuts);
      expect([r.eventsIn, r.eventsKept, r.eventsCut]).toEqual([ref.n, ref.nk, ref.n - ref.nk]);
      expect(relative(r.yieldIn, ref.y)).toBeLessThan(1e-9);
      expect(relative(r.yieldKept, ref.yk)).toBeLessThan(1e-9);
      expect(r.efficiency).toBe(r.yieldKept / r.yieldIn);
      // The sample's own skim files and bytes, and its files' counts add up to its own.
      const files = report.skimFiles.filter((f) => f.includes(join('skim', s.name, '')));
      expect(r.skimFiles.sort()).toEqual(files.sort());
      expect(r.bytesSaved).toBe(r.bytesIn - r.bytesOut);
    }
    const total = report.samples!.total;
    expect(total.eventsIn).toBe(report.eventsIn);
    expect(total.eventsKept).toBe(report.eventsKept);
    expect(total.eventsIn).toBe(total.eventsKept + total.eventsCut);
    expect(total.bytesIn).toBe(report.bytesIn);
    expect(total.bytesOut).toBe(report.bytesOut);
    const z = report.samples!.significance;
    expect(z.signal).toBe(rows[0].yieldKept);
    expect(
      relative(
        z.background,
        rows.slice(1).reduce((a, r) => a + r.yieldKept, 0),
      ),
    ).toBeLessThan(1e-12);
    expect(z.sigmaB).toBe(0.2);
  });

  it('shows the per-sample table and the stacked plots in report.html', async () => {
    const html = await readFile(join(out(), 'report.html'), 'utf8');
    const table = /<table id="samples">(.*?)<\/table>/s.exec(html)![1];
    const names = [...table.matchAll(/<tr><td>([^<]*)<\/td>/g)].map((m) => m[1]);
    expect(names).toEqual([...samples().map((s) => s.name), 'total']);
    for (const [i, c] of cuts.cuts.entries()) {
      const slug = c.column.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '');
      expect(report.plots).toContain(join(out(), `stack-${i + 1}-${slug}.png`));
      expect(html).toContain(`alt="stack-${i + 1}-${slug}"`);
    }
  });

  it('eval --pipeline gives the same per-sample yields, with the stacked plots and the table', async () => {
    const evalDir = join(dir, 'eval');
    const r = await cli(['eval', '--model', out(), '--pipeline', join(dir, 'p.yaml'), '--out', evalDir]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^total +\d+ in, \d+ kept; yield/m);
    const evaluation = JSON.parse(await readFile(join(evalDir, 'eval.json'), 'utf8')) as Evaluation & {
      plots: string[];
    };
    const fromEval = evaluation.samples!.samples;
    const fromRun = report.samples!.samples;
    expect(fromEval.map((s) => [s.name, s.eventsIn, s.eventsKept])).toEqual(
      fromRun.map((s) => [s.name, s.eventsIn, s.eventsKept]),
    );
    for (const [i, s] of fromEval.entries()) {
      expect(relative(s.yieldIn, fromRun[i].yieldIn)).toBeLessThan(1e-12);
      expect(relative(s.yieldKept, fromRun[i].yieldKept)).toBeLessThan(1e-12);
    }
    expect(evaluation.events).toBe(report.eventsIn);
    expect(evaluation.plots).toEqual(expect.arrayContaining(['stack-1-MET_pt.png', 'stack-2-count_Jet_pt.png']));
    const html = await readFile(join(evalDir, 'report.html'), 'utf8');
    expect(html).toContain('<table id="samples">');
  }, 120_000);

  const noChromium = toolMissing('Chromium', CHROMIUM ? null : 'not found (apt-get install -y chromium)');
  it.skipIf(noChromium)('renders report.html in Chromium: every plot decodes, the samples table is there', async () => {
    const html = await readFile(join(out(), 'report.html'), 'utf8');
    const { dom, images } = renderInChromium(html, out());
    expect(images).toEqual(embeddedPngSizes(html));
    expect(images.length).toBeGreaterThanOrEqual(cuts.cuts.length * 2 + 5);
    expect(dom).toContain('<table id="samples">');
  });
});
