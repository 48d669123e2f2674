import { copyFile, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { from, lastValueFrom, Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch, type EventBatch } from '../../src/batch/batch.js';
import { toyBatches } from '../../src/datasets/toy.js';
import { createModel } from '../../src/model/model.js';
import { mlpScore } from '../../src/model/score.js';
import { hardCut, newCounts } from '../../src/operators/hardCut.js';
import { parsePipeline } from '../../src/pipeline/load.js';
import { readCutsFile, type CutsFile } from '../../src/selection/cutsFile.js';
import { skimWithResume } from '../../src/skim/resume.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { parquetSink } from '../../src/sinks/parquetSink.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { sql } from '../parquet/helpers.js';
import { cli, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let good: string;
const cuts: CutsFile = { cuts: [{ column: 'met', op: '>', value: 30 }], score: null };

/** met: NaN every 11th event, NULL every 13th, +Inf every 17th, -Inf every 19th; s a "score" column. */
const WEIRD = `i::INTEGER AS id,
  CASE WHEN i % 11 = 0 THEN 'nan'::DOUBLE WHEN i % 13 = 0 THEN NULL WHEN i % 17 = 0 THEN 'inf'::DOUBLE WHEN i % 19 = 0 THEN '-inf'::DOUBLE ELSE (i % 60)::DOUBLE END AS met,
  ((i * 7919) % 1000 / 1000.0)::DOUBLE AS s,
  'run' || (i % 3) AS tag`;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  good = join(dir, 'good.parquet');
  await sql(`COPY (SELECT ${WEIRD} FROM range(6000) t(i)) TO '${good}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
});
afterAll(() => cleanup());

/** Runs a skim that must fail; returns the message and checks that no output (nor temp file) was left. */
async function skimFails(inputs: string[], name: string, c: CutsFile = cuts, keep?: string[]): Promise<string> {
  const out = join(dir, `out-${name}`);
  const e = await skimWithResume({ inputs, cuts: c, outDir: out, keep }).catch((x: Error) => x);
  expect(e).toBeInstanceOf(Error);
  const left = await readdir(out).catch(() => []);
  expect(left.filter((n) => n.endsWith('.parquet') || n.includes('.tmp-') || n === 'report.json')).toEqual([]);
  return (e as Error).message;
}

async function variant(name: string, bytes: Buffer | string): Promise<string> {
  const path = join(dir, `${name}.parquet`);
  await writeFile(path, bytes);
  return path;
}

describe('bad Parquet input: a clear error naming the file (and row group/column), no output', () => {
  it('truncated file, garbage with a .parquet name, zero-byte file', async () => {
    const bytes = await readFile(good);
    const truncated = await variant('truncated', bytes.subarray(0, bytes.length - 200));
    const garbage = await variant('garbage', Buffer.from('PAR1 but not really a parquet file '.repeat(20)));
    const empty = await variant('empty', '');
    expect(await skimFails([truncated], 'trunc')).toMatch(
      new RegExp(`^${truncated}: cannot read Parquet metadata \\(footer; corrupt or truncated file\\?\\)`),
    );
    expect(await skimFails([garbage], 'garbage')).toMatch(new RegExp(`^${garbage}: cannot read Parquet metadata`));
    expect(await skimFails([empty], 'empty')).toBe(`${empty}: file is empty (0 bytes), not a Parquet file`);
    // A bad file anywhere in the list stops the run before any file is written.
    expect(await skimFails([good, truncated], 'second')).toMatch(new RegExp(`^${truncated}:`));
  });

  it('a corrupt data page: the skim and the batch reader name the row group and the column', async () => {
    // Zero the first page header of column 'met' in row group 1, found from the footer.
    const [chunk] = await sql(
      `SELECT data_page_offset AS o FROM parquet_metadata('${good}') WHERE row_group_id = 1 AND path_in_schema = 'met'`,
    );
    const bytes = Buffer.from(await readFile(good));
    bytes.fill(0, Number(chunk.o), Number(chunk.o) + 16);
    const bad = await variant('badpage', bytes);
    const expected = new RegExp(`^${bad}: .*row group 1, column 'met': corrupt or unreadable data`);
    expect(await skimFails([bad], 'page')).toMatch(expected);
    await expect(lastValueFrom(parquetSource([bad]).batches({ columns: ['id', 'met'] }))).rejects.toThrow(expected);
    // The streaming skim (score cut): row group 0 is written first, then the read fails; no file is left.
    const out = join(dir, 'out-page-stream');
    const score = { fn: (b: { length: number }) => new Float32Array(b.length).fill(1), threshold: 0 };
    await expect(runSkim({ inputs: [bad], cuts: { cuts: [], score: null }, outDir: out, score })).rejects.toThrow(
      new RegExp(
        `^${out}/badpage.skim.parquet: not written, the stream of batches failed: ${bad}: .*row group 1, column 'met': corrupt or unreadable data`,
      ),
    );
    expect(await readdir(out)).toEqual([]);
  });

  it("a damaged page where DuckDB's streaming read stops without an error is still an error, not a short read", async () => {
    // The seed toy as diffskim writes it; a few bytes of column 'y' in row group 3 overwritten
    // (this damage made DuckDB end the stream early without an error).
    const toy = join(dir, 'toy.parquet');
    await lastValueFrom(
      from(toyBatches({ kind: 'toy2d', eventsPerClass: 40_000 })).pipe(parquetSink(toy, { rowGroupRows: 16_384 })),
    );
    const [chunk] = await sql(
      `SELECT data_page_offset AS o FROM parquet_metadata('${toy}') WHERE row_group_id = 3 AND path_in_schema = 'y'`,
    );
    const bytes = Buffer.from(await readFile(toy));
    bytes.fill(0xa7, Number(chunk.o) + 2, Number(chunk.o) + 32);
    const bad = await variant('scribbled', bytes);
    const expected = new RegExp(`${bad}: .*row group 3, column 'y': corrupt or unreadable data`);
    for (const where of [[], [{ column: 'x', op: '>' as const, value: -3 }]])
      await expect(lastValueFrom(parquetSource([bad]).batches({ where }))).rejects.toThrow(expected);
    const out = join(dir, 'out-scribbled');
    const score = { fn: (b: { length: number }) => new Float32Array(b.length).fill(1), threshold: 0 };
    await expect(runSkim({ inputs: [bad], cuts: { cuts: [], score: null }, outDir: out, score })).rejects.toThrow(
      expected,
    );
    expect(await readdir(out)).toEqual([]);
  });

  it('a source that fails mid-stream makes the Parquet sink fail with that error and leave no file', async () => {
    const out = join(dir, 'sink-fail.parquet');
    const failing = new Observable<EventBatch>((s) => {
      s.next(makeBatch({ x: Float64Array.from([1, 2, 3]) }, { x: 'float64' }));
      s.next(makeBatch({ x: Float64Array.from([4, 5]) }, { x: 'float64' }));
      setTimeout(() => s.error(new Error('source died')), 5);
    });
    await expect(lastValueFrom(failing.pipe(parquetSink(out)))).rejects.toThrow(
      `${out}: not written, the stream of batches failed: source died`,
    );
    expect((await readdir(dir)).filter((n) => n.startsWith('sink-fail'))).toEqual([]);
  });

  it('the CLI exits 1 with the file, row group and column, and writes nothing', async () => {
    const out = join(dir, 'cli-out');
    const cutsPath = join(dir, 'cuts.json');
    await writeFile(cutsPath, JSON.stringify(cuts));
    const r = await cli(['skim', '--cuts', cutsPath, '--input', join(dir, 'badpage.parquet'), '--output', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/badpage\.parquet: .*row group 1, column 'met': corrupt or unreadable data/);
    expect((await readdir(out).catch(() => [])).filter((n) => n !== 'manifest.json')).toEqual([]);
  }, 30_000);

  it('missing column, wrong column type, schema drift across files', async () => {
    expect(await skimFails([good], 'missing', { cuts: [{ column: 'mett', op: '>', value: 1 }], score: null })).toMatch(
      new RegExp(`^${good}: no column 'mett' \\(closest: 'met'\\)`),
    );
    expect(await skimFails([good], 'string', { cuts: [{ column: 'tag', op: '>', value: 1 }], score: null })).toBe(
      `${good}: column 'tag' has type VARCHAR, which diffskim cannot read (numbers, booleans and lists of them only)`,
    );
    expect(await skimFails([good], 'keep', cuts, ['id', 'metx'])).toMatch(/no column 'metx'/);
    const drift = join(dir, 'drift.parquet');
    await sql(
      `COPY (SELECT i::INTEGER AS id, (i % 60)::FLOAT AS met, 0.5::DOUBLE AS s, 'x' AS tag FROM range(100) t(i)) TO '${drift}' (FORMAT parquet)`,
    );
    expect(await skimFails([good, drift], 'drift')).toBe(
      `schemas differ between ${good} and ${drift}: column 'met' is met: float64? in one and met: float32? in the other`,
    );
    const fewer = join(dir, 'fewer.parquet');
    await sql(`COPY (SELECT i::INTEGER AS id FROM range(100) t(i)) TO '${fewer}' (FORMAT parquet)`);
    expect(await skimFails([good, fewer], 'fewer')).toBe(
      `schemas differ between ${good} and ${fewer}: column 'met' is in ${good}, not in ${fewer}`,
    );
    expect(await skimFails([fewer, good], 'more')).toBe(
      `schemas differ between ${fewer} and ${good}: column 'met' is in ${good}, not in ${fewer}`,
    );
    // A column of a type diffskim reads in one file and of another in the next is not 'missing'.
    const text = join(dir, 'text.parquet');
    await sql(`COPY (SELECT i::INTEGER AS id, i::VARCHAR AS met FROM range(100) t(i)) TO '${text}' (FORMAT parquet)`);
    expect(await skimFails([good, text], 'text')).toBe(
      `schemas differ between ${good} and ${text}: column 'met' is float64 in ${good} and VARCHAR in ${text}`,
    );
    expect(await skimFails([text, good], 'text2')).toBe(
      `schemas differ between ${text} and ${good}: column 'met' is float64 in ${good} and VARCHAR in ${text}`,
    );
  });

  it('cuts.json with an unknown key or a malformed cut, and a pipeline file with a wrong key', async () => {
    const p = join(dir, 'badcuts.json');
    await writeFile(p, JSON.stringify({ cuts: [{ column: 'met', op: '>', valeu: 3 }] }));
    await expect(readCutsFile(p)).rejects.toThrow(new RegExp(`^${p}: cuts\\[0\\]`));
    await writeFile(p, '{"cuts": [');
    await expect(readCutsFile(p)).rejects.toThrow(new RegExp(`^${p}: cannot read cuts file`));
    const yaml = ['name: x', 'source:', '  kind: parquet', '  paths: [a.parquet]', '  pahts: [b.parquet]'].join('\n');
    expect(() => parsePipeline(yaml, 'p.yaml')).toThrow(
      /^p\.yaml:5: unknown key 'source.pahts' \(did you mean 'paths'\?\)/,
    );
  });
});

describe('NaN, null and ±Inf in cut columns', () => {
  // Policy: NaN and null fail every cut (counted as cut); ±Inf are numbers: +Inf > c passes, -Inf fails.
  const expectedIds = async () =>
    (
      await sql(
        `SELECT id FROM read_parquet('${good}') WHERE met IS NOT NULL AND NOT isnan(met) AND met > 30 ORDER BY id`,
      )
    ).map((r) => Number(r.id));

  it('the in-engine skim and the streaming skim keep the same events, and count the rest as cut', async () => {
    const want = await expectedIds();
    // The hand-written selection, from the generator: ids whose met is +Inf or (i % 60) > 30 and not NaN/NULL/-Inf.
    const byHand = [];
    for (let i = 0; i < 6000; i++) if (i % 11 && i % 13 && (i % 17 === 0 || (i % 19 && i % 60 > 30))) byHand.push(i);
    expect(want).toEqual(byHand);
    const copy = await runSkim({ inputs: [good], cuts, outDir: join(dir, 'nan-copy') });
    const stream = await runSkim({
      inputs: [good],
      cuts,
      outDir: join(dir, 'nan-stream'),
      keep: ['id', 'met', 's'],
      score: { fn: (b) => new Float32Array(b.length).fill(1), threshold: 0.5 },
    });
    for (const r of [copy, stream]) {
      const ids = (await sql(`SELECT id FROM read_parquet('${r.skimFiles[0]}') ORDER BY id`)).map((x) => Number(x.id));
      expect(ids).toEqual(want);
      expect([r.eventsIn, r.eventsKept, r.eventsCut]).toEqual([6000, want.length, 6000 - want.length]);
    }
  });

  it('NN inputs: NaN is taken at the mean; ±Inf may give a NaN score, which fails the score cut and is counted as cut', () => {
    const model = createModel({
      kind: 'mlp',
      features: ['a'],
      inputMean: [0.5],
      inputStd: [2],
      hidden: [4, 3],
      cuts: [],
      seed: 3,
    });
    const a = Float64Array.from([NaN, 0.5, Infinity, -Infinity, 1, NaN]);
    const batch = makeBatch({ a }, { a: 'float64' });
    const s = mlpScore(model, batch);
    expect(s[0]).toBe(s[1]); // NaN input scores as the mean
    expect(s[5]).toBe(s[1]);
    expect(Number.isFinite(s[4])).toBe(true);
    const counts = newCounts();
    let kept = 0;
    hardCut(
      [],
      { fn: (b) => mlpScore(model, b), threshold: -1 },
      counts,
    )(from([batch])).subscribe((b) => (kept += b.length));
    // With threshold -1 every finite score passes: only NaN scores (from ±Inf inputs) are cut.
    const nanScores = Array.from(s).filter(Number.isNaN).length;
    expect(kept).toBe(6 - nanScores);
    expect(counts).toEqual({ eventsIn: 6, kept: 6 - nanScores, cut: nanScores });
  });
});

describe('accounting', () => {
  it('events in = kept + cut, and the bytes in/out are the sizes on disk', async () => {
    const copy = join(dir, 'copy.parquet');
    await copyFile(good, copy);
    const r = await runSkim({ inputs: [good, copy], cuts, outDir: join(dir, 'acct') });
    const [rows] = await sql(`SELECT count(*) AS n FROM read_parquet(['${good}', '${copy}'])`);
    const [kept] = await sql(`SELECT count(*) AS n FROM read_parquet(['${r.skimFiles.join("','")}'])`);
    expect([r.eventsIn, r.eventsKept, r.eventsCut]).toEqual([
      Number(rows.n),
      Number(kept.n),
      Number(rows.n) - Number(kept.n),
    ]);
    const sizes = await sql(`SELECT sum(size)::BIGINT AS b FROM read_blob(['${good}', '${copy}'])`);
    const outSizes = await sql(`SELECT sum(size)::BIGINT AS b FROM read_blob(['${r.skimFiles.join("','")}'])`);
    expect([r.bytesIn, r.bytesOut, r.bytesSaved]).toEqual([
      Number(sizes[0].b),
      Number(outSizes[0].b),
      Number(sizes[0].b) - Number(outSizes[0].b),
    ]);
  });
});
