import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSummary } from '../../src/cli/commands/run.js';
import { summaryLines } from '../../src/cli/summary.js';
import { evaluateModel } from '../../src/eval/evaluate.js';
import { loadModel } from '../../src/model/io.js';
import { runPipeline, type RunReport } from '../../src/pipeline/runPipeline.js';
import type { SkimResult } from '../../src/skim/runSkim.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { formatBytes } from '../../src/util/formatBytes.js';
import { hashIndex } from '../../src/util/random.js';
import { sql } from '../eval/helpers.js';
import { toyPipelineYaml } from '../helpers/toyPipeline.js';

/** A small run (jet_pt left out of the skim), and what its page and eval.json say. */
let dir: string;
let report: RunReport;
let evaluation: Record<string, any>;
let page: string;
const [FRACTION, SEED] = [0.25, 11];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffskim-runpage-'));
  await writeFile(
    join(dir, 'toy.yaml'),
    toyPipelineYaml({
      events: 3000,
      training: `{ epochs: 2, batchSize: 2048, learningRate: 0.02, shuffleBuffer: 4096, seed: ${SEED}, validationFraction: ${FRACTION} }`,
      loss: '{ kind: bce, size: { lambda: 0.5 } }',
      more: 'skim: { keep: [event_id, x, y, label, weight] }',
    }),
  );
  report = await runPipeline(join(dir, 'toy.yaml'), { outDir: join(dir, 'out') });
  evaluation = JSON.parse(await readFile(join(dir, 'out', 'eval.json'), 'utf8'));
  page = await readFile(join(dir, 'out', 'report.html'), 'utf8');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The text of the key-value cell headed `th` (tags stripped). */
const cell = (th: string) => new RegExp(`<th>${th}</th><td>(.*?)</td>`).exec(page)?.[1].replace(/<[^>]+>/g, '');
const count = (text: string | undefined) => Number(text?.split(/[ :]/)[0].replace(/,/g, ''));

describe("a run's report.html", () => {
  it('is written by the run with the figures of its RunReport and its evaluation', () => {
    expect(page).toContain('<h2>Training run and skim</h2>');
    expect(page).toContain('<h2>Evaluation</h2>');
    expect(count(cell('events in'))).toBe(report.eventsIn);
    expect(count(cell('events kept'))).toBe(report.eventsKept);
    expect(Number(cell('AUC \\(validation\\)'))).toBeCloseTo(report.auc!, 4);
    expect(cell('bytes in \\(on disk\\)')).toBe(formatBytes(report.bytesIn));
    expect(cell('bytes out \\(skim on disk\\)')).toBe(formatBytes(report.bytesOut));
    expect(count(cell('events evaluated'))).toBe(evaluation.events);
    expect(page.match(/<img /g)).toHaveLength(report.plots.length + evaluation.plots.length);
  });
});

describe("a run's evaluation", () => {
  it('counts the validation split that training held out, and says so', async () => {
    const cut = Math.floor(FRACTION * 0x100000000);
    const held = Array.from({ length: report.eventsIn }, (_, k) => hashIndex(k, SEED) < cut).filter(Boolean).length;
    expect(evaluation.sample).toEqual({ split: 'validation', fraction: FRACTION, seed: SEED });
    expect(evaluation.events).toBe(held);
    // The same events and model as training's last validation: the same AUC, which all events do not give.
    expect(evaluation.auc).toBeCloseTo(report.auc!, 9);
    const model = await loadModel(join(dir, 'out', 'model'));
    const source = parquetSource([join(dir, 'toy.parquet')]);
    const all = await evaluateModel({ source, model, label: 'label', weight: 'weight', quiet: true });
    expect(all.events).toBe(report.eventsIn);
    expect(Math.abs(all.auc! - report.auc!)).toBeGreaterThan(1e-6);
    expect(page).toMatch(/<th>events evaluated<\/th><td>[\d,]+: the validation split only: 25\.0% of the input events/);
    expect(page).toContain('<th>signal efficiency (validation split)</th>');
  });

  it('gives bytes that add up: in = kept + saved, saved = rows + columns + file overhead', async () => {
    const s = evaluation.savedCuts;
    const file = join(dir, 'toy.parquet');
    expect(s.bytesIn).toBe((await stat(file)).size);
    expect(s.bytesKeptEstimate + s.bytesSavedEstimate).toBe(s.bytesIn);
    const parts = s.bytesSavedByRowsEstimate + s.bytesSavedByColumns + s.bytesSavedOverhead;
    expect(parts).toBeCloseTo(s.bytesSavedEstimate, 6);
    const [{ left, columns }] = await sql(
      `SELECT sum(total_compressed_size) FILTER (WHERE path_in_schema NOT IN ('event_id', 'x', 'y', 'label', 'weight'))
                AS left,
              sum(total_compressed_size) AS columns FROM parquet_metadata('${file}')`,
    );
    expect(s.bytesSavedByColumns).toBe(Number(left));
    expect(s.bytesSavedOverhead).toBe(s.bytesIn - Number(columns));
    const keptColumns = Number(columns) - Number(left);
    expect(s.bytesSavedByRowsEstimate).toBeCloseTo(keptColumns * (1 - s.keptBytesFraction), 6);
  });

  it("has one bytes section on the run's page: the skim's, measured", () => {
    expect(page.match(/<th>bytes in \(on disk\)<\/th>/g)).toHaveLength(1);
    expect(page).not.toContain('bytes a skim would');
    expect(page).toContain('<h3>What a skim with these cuts keeps (validation split)</h3>');
  });

  it('prints bytes in a unit that fits', () => {
    const small = { ...report, bytesIn: 41_234, bytesOut: 812, bytesSaved: 40_422 };
    const parts = { bytesSavedByRows: 30_000, bytesSavedByColumns: 0, bytesSavedByEncoding: 10_422 };
    const line = /bytes: +41\.2 kB in, 812 B out, 40\.4 kB saved \(98\.0%: 30\.0 kB by the cuts, 10\.4 kB by re-enc/;
    expect(runSummary({ ...small, ...parts }, 'out')).toMatch(line);
    const pushDown = { rowGroupsTotal: 4, rowGroupsSkipped: 1, bytesNeverRead: 2_500_000, seconds: 0.1 };
    const skim = summaryLines({ ...small, ...parts, ...pushDown, files: [], path: 'duckdb-copy' } as SkimResult);
    const saved = '30.0 kB by rows, 0 B by columns, 10.4 kB by re-encoding';
    expect(skim).toContain(`bytes: 41.2 kB in, 812 B out, saved 40.4 kB (98.0%): ${saved}`);
    expect(skim.some((l) => l.endsWith(', 2.50 MB never read'))).toBe(true);
  });
});
