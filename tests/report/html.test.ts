import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateModel, type Evaluation } from '../../src/eval/evaluate.js';
import { writeEvaluation } from '../../src/report/writeEvaluation.js';
import { writeHtmlReport } from '../../src/report/html.js';
import type { RunReport } from '../../src/report/types.js';
import type { CutsFile } from '../../src/selection/cutsFile.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { tempDir, toyEvents, toyModel, writeParquet } from '../eval/helpers.js';
import { CHROMIUM, embeddedPngSizes, renderInChromium } from '../helpers/chromium.js';
import { toolMissing } from '../helpers/tools.js';

const CUTS: CutsFile = {
  cuts: [
    { column: 'x', op: '>', value: 0.5 },
    { column: 'y', op: 'between', low: -1, high: 4 },
  ],
  score: { op: '>', value: 0.3 },
};

let dir: string;
let cleanup: () => Promise<void>;
let evalDir: string;
let evaluation: Evaluation;
let html: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  const file = join(dir, 'toy.parquet');
  await writeParquet(file, toyEvents(4000, 5));
  evaluation = await evaluateModel({
    source: parquetSource([file]),
    model: toyModel(),
    cuts: CUTS,
    label: 'label',
    quiet: true,
  });
  evalDir = join(dir, 'eval');
  // A plot an earlier evaluation (with a third cut) left in the folder.
  await mkdir(evalDir);
  await writeFile(join(evalDir, 'cut-3-old.png'), "not this run's");
  const provenance = { model: 'toy-model', cutsFile: 'toy-cuts.json', inputs: [file] };
  const written = await writeEvaluation(evaluation, provenance, evalDir);
  html = await readFile(
    await writeHtmlReport(evalDir, { evaluation: { ...provenance, ...evaluation }, plots: written.plots }),
    'utf8',
  );
});

afterAll(() => cleanup?.());

/** Text of the cells of a table's body rows (tags stripped, entities decoded). */
function tableRows(page: string, id: string): string[][] {
  const m = new RegExp(`<table id="${id}">(.*?)</table>`, 's').exec(page);
  if (!m) throw new Error(`no table #${id}`);
  const body = m[1].split('<tbody>')[1];
  return [...body.matchAll(/<tr>(.*?)<\/tr>/gs)].map((r) =>
    [...r[1].matchAll(/<td>(.*?)<\/td>/gs)].map((c) => unescape(c[1].replace(/<[^>]+>/g, ''))),
  );
}

function unescape(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

const number = (cell: string) => Number(cell.replace(/[,%]/g, ''));

describe('report.html of an evaluation', () => {
  it('has the cut-flow table with the evaluated counts and fractions', () => {
    const rows = tableRows(html, 'cutflow');
    expect(rows.map((r) => r[0])).toEqual(evaluation.cutFlow.map((r) => r.step));
    rows.forEach((cells, k) => {
      const r = evaluation.cutFlow[k];
      expect(number(cells[1])).toBe(r.events);
      expect(number(cells[2])).toBeCloseTo(100 * r.fraction.events, 1);
      expect(number(cells[4])).toBeCloseTo(100 * r.fraction.signal!, 1);
      expect(number(cells[5])).toBeCloseTo(100 * r.fraction.background!, 1);
    });
  });

  it('has the working points with thresholds, efficiencies and rejection', () => {
    const rows = tableRows(html, 'workingpoints');
    expect(rows).toHaveLength(evaluation.workingPoints.length);
    rows.forEach((cells, k) => {
      const w = evaluation.workingPoints[k];
      expect(number(cells[1])).toBeCloseTo(w.threshold, 3);
      expect(number(cells[2])).toBeCloseTo(100 * w.signalEfficiency, 1);
      expect(Math.abs(number(cells[3]) - 100 * w.backgroundEfficiency)).toBeLessThan(0.051);
      expect(Math.abs(number(cells[4]) - 1 / w.backgroundEfficiency)).toBeLessThan(0.051);
    });
  });

  it('lists the cuts (with the score cut) and the AUC', () => {
    expect(tableRows(html, 'cuts').map((r) => r[3])).toEqual(['x > 0.5', '-1 < y < 4', 'score > 0.3']);
    expect(html).toContain(`<th>AUC</th><td>${evaluation.auc!.toFixed(4)}</td>`);
  });

  it('embeds every plot eval.json lists as a PNG data URI identical to the file, and no other', async () => {
    const pngs = (await readdir(evalDir)).filter((f) => f.endsWith('.png') && f !== 'cut-3-old.png').sort();
    expect(pngs).toEqual(['cut-1-x.png', 'cut-2-y.png', 'roc.png', 'scores.png']);
    expect(html).not.toContain('alt="cut-3-old"'); // an earlier evaluation's plot left in the folder
    const images = [...html.matchAll(/<img src="data:image\/png;base64,([^"]+)" alt="([^"]+)">/g)];
    expect(images.map((m) => `${m[2]}.png`).sort()).toEqual(pngs);
    for (const [, data, name] of images)
      expect(Buffer.from(data, 'base64').equals(await readFile(join(evalDir, `${name}.png`)))).toBe(true);
    expect(html).not.toMatch(/<script|src="(?!data:)/);
  });
});

describe('report.html of a run folder', () => {
  it('shows the skim bytes and efficiencies of report.json, with its plots', async () => {
    const runDir = join(dir, 'run');
    await mkdir(runDir);
    await copyFile(join(evalDir, 'roc.png'), join(runDir, 'loss.png'));
    const report: RunReport = {
      pipeline: '/pipelines/toy2d.yaml',
      inputs: ['/data/toy2d.parquet'],
      skimFiles: ['/skim/toy2d.parquet'],
      eventsIn: 80_000,
      eventsKept: 30_000,
      eventsCut: 50_000,
      columnsNotWritten: [],
      keptFractionPredicted: 0.37,
      keptBytesFractionPredicted: 0.4,
      keptFractionActual: 0.375,
      trainingEventsPerSecond: 1e5,
      timings: { trainSeconds: 1, skimSeconds: 1, totalSeconds: 2 },
      bytesIn: 2_500_000,
      bytesOut: 1_000_000,
      bytesSaved: 1_500_000,
      bytesSavedByRows: 1_100_000,
      bytesSavedByColumns: 300_000,
      bytesSavedByEncoding: 100_000,
      signalEfficiency: 0.912,
      backgroundEfficiency: 0.0456,
      auc: 0.97531,
      cuts: CUTS,
      backend: 'wasm',
      warnings: ['a <warning> & more'],
      plots: [join('/elsewhere', 'loss.png')],
    };
    const page = await readFile(await writeHtmlReport(runDir, { run: report, plots: report.plots }), 'utf8');
    expect(page).toContain('<th>bytes in (on disk)</th><td>2.50 MB</td>');
    expect(page).toContain('<th>bytes saved</th><td>1.50 MB (60.0%)</td>');
    expect(page).toContain('<th>events kept</th><td>30,000 (37.5%)</td>');
    expect(page).toContain('<th>background efficiency</th><td>4.6%</td>');
    expect(page).toContain('<th>AUC (validation)</th><td>0.9753</td>');
    expect(page).toContain('<li>a &lt;warning&gt; &amp; more</li>');
    expect(page.match(/<img /g)).toHaveLength(1);
    expect(tableRows(page, 'cuts')).toHaveLength(3);
  });

  it('refuses a folder with neither report.json nor eval.json', async () => {
    await expect(writeHtmlReport(join(dir, 'nothing-here'), { plots: [] })).rejects.toThrow(
      /no report.json or eval.json/,
    );
  });
});

/** The text of the key-value cell headed `th` (tags stripped, entities decoded). */
function cell(page: string, th: string): string {
  const m = new RegExp(`<th>${th}</th><td>(.*?)</td>`).exec(page);
  if (!m) throw new Error(`no row '${th}'`);
  return unescape(m[1].replace(/<[^>]+>/g, ''));
}

describe('report.html from the typed objects, whatever is on disk', () => {
  it('is written before eval.json, and ignores a stale report.json and eval.json in the folder', async () => {
    const fresh = join(dir, 'fresh');
    await mkdir(fresh);
    const provenance = { model: 'toy-model', cutsFile: null, inputs: ['toy.parquet'] };
    const page = { evaluation: { ...provenance, ...evaluation }, plots: [] };
    // No eval.json yet: the page comes from the object.
    const first = await readFile(await writeHtmlReport(fresh, page), 'utf8');
    // An earlier run's and evaluation's JSON left in the folder change nothing.
    await writeFile(join(fresh, 'eval.json'), JSON.stringify({ ...evaluation, events: 1, auc: 0.5 }));
    await writeFile(join(fresh, 'report.json'), JSON.stringify({ eventsIn: 7, eventsKept: 3, plots: [] }));
    const again = await readFile(await writeHtmlReport(fresh, page), 'utf8');
    for (const p of [first, again]) {
      expect(number(cell(p, 'events evaluated').split(':')[0])).toBe(evaluation.events);
      expect(cell(p, 'AUC')).toBe(evaluation.auc!.toFixed(4));
      expect(number(cell(p, 'signal / background events').split(' / ')[0])).toBe(evaluation.signalEvents);
      expect(tableRows(p, 'cutflow').map((r) => number(r[1]))).toEqual(evaluation.cutFlow.map((r) => r.events));
      expect(p).not.toContain('Training run and skim');
    }
    expect((await readdir(fresh)).filter((f) => f.includes('.tmp'))).toEqual([]);
  });
});

describe('report.html in headless Chromium', () => {
  const noChromium = toolMissing('Chromium', CHROMIUM ? null : 'not found (apt-get install -y chromium)');
  it.skipIf(noChromium)('loads every image (data URIs decode to their full size)', () => {
    const { dom, images } = renderInChromium(html, evalDir);
    expect(images).toHaveLength(4);
    expect(images).toEqual(embeddedPngSizes(html));
    expect(dom).toContain('<table id="cutflow">');
  });
});
