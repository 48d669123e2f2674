import { existsSync, readdirSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScoreCut } from '../../src/operators/hardCut.js';
import type { CutsFile } from '../../src/selection/cutsFile.js';
import { skimWithResume } from '../../src/skim/resume.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { InputError } from '../../src/sources/inputError.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { collect, sql, tempDir } from '../parquet/helpers.js';

const cuts: CutsFile = { cuts: [{ column: 'x', op: '>', value: 50 }], score: null };
const everything: ScoreCut = { fn: (b) => new Float32Array(b.length).fill(1), threshold: 0.5, columns: [] };

let dir: string;
let cleanup: () => Promise<void>;
let a: string;
let b: string;
/** A file of another schema, renamed over b by the tests (as a producer writing atomically does). */
let other: string;

async function write(
  path: string,
  rows: number,
  columns = 'range::BIGINT AS id, (range % 100)::DOUBLE AS x',
): Promise<void> {
  await sql(`COPY (SELECT ${columns} FROM range(${rows})) TO '${path}' (FORMAT parquet)`);
}

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  a = join(dir, 'a.parquet');
  b = join(dir, 'b.parquet');
  await write(a, 1000);
  await write(b, 100_000); // 4 batches of the streaming skim
  other = join(dir, 'other.parquet');
  await write(other, 500, `range::BIGINT AS id, (range % 100)::VARCHAR AS x, range::DOUBLE AS y`);
});
afterEach(() => cleanup());

/** `p` must reject with an InputError of kind 'changed' naming `file`. */
async function expectChanged(p: Promise<unknown>, file: string): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e, String(e)).toBeInstanceOf(InputError);
  expect((e as InputError).kind).toBe('changed');
  // (A streaming skim's error starts with the skim file it did not write.)
  expect((e as Error).message).toMatch(new RegExp(`${file}: changed \\(.*\\) since its footer was read`));
}

/** The skim of `a` stays, as DuckDB selects it; `b` has no skim file and no temporary file left. */
async function expectOnlyFirstSkimmed(out: string): Promise<void> {
  expect(readdirSync(out)).toEqual(['a.skim.parquet']);
  const [kept] = await sql(`SELECT count(*)::INT AS n FROM '${join(out, 'a.skim.parquet')}'`);
  const [expected] = await sql(`SELECT count(*)::INT AS n FROM '${a}' WHERE x > 50`);
  expect(kept.n).toBe(expected.n);
  expect(existsSync(join(out, 'b.skim.parquet'))).toBe(false);
}

describe('an input changed after the skim planned it', () => {
  for (const [path, score] of [
    ['in-engine', undefined],
    ['streaming', everything],
  ] as const) {
    it(`replaced by a file of another schema before it is read (${path} skim): refused, naming it`, async () => {
      const out = join(dir, 'out');
      let replaced = false;
      const onProgress = (p: { file: string }) => {
        if (p.file === a && !replaced) renameSync(other, b);
        replaced ||= p.file === a;
      };
      await expectChanged(runSkim({ inputs: [a, b], cuts, outDir: out, score, onProgress }), b);
      await expectOnlyFirstSkimmed(out);
    });
  }

  it('rewritten in place with the same schema while the streaming skim reads it: refused, no skim file', async () => {
    const out = join(dir, 'out');
    const shorter = join(dir, 'shorter.parquet');
    await write(shorter, 90_000);
    const bytes = readFileSync(shorter);
    let rewritten = false;
    const onProgress = (p: { file: string }) => {
      if (p.file === b && !rewritten) writeFileSync(b, bytes); // same inode, truncated and written
      rewritten ||= p.file === b;
    };
    await expectChanged(runSkim({ inputs: [a, b], cuts, outDir: out, score: everything, onProgress }), b);
    expect(rewritten).toBe(true);
    await expectOnlyFirstSkimmed(out);
  });

  it('a batch read of a file replaced after its footer was read is refused, naming it', async () => {
    const source = parquetSource([a, b]);
    await source.files();
    renameSync(other, b);
    await expectChanged(collect(source.batches({ columns: ['id', 'x'] })), b);
  });
});

describe('an input changed between two runs of one skim', () => {
  it('replaced by a file of the same size and modification time: skimmed again, not skipped as done', async () => {
    const out = join(dir, 'out');
    const columns = (shift: number) => `range::INTEGER AS id, ((range + ${shift}) % 100)::DOUBLE AS x`;
    const opts = { inputs: [a], cuts, outDir: out };
    await sql(`COPY (SELECT ${columns(0)} FROM range(5000)) TO '${a}' (FORMAT parquet, COMPRESSION uncompressed)`);
    utimesSync(a, 1e9, 1e9);
    await skimWithResume(opts);
    // Another producer's file, delivered with the first's time (cp -p, rsync -t) and renamed into place.
    const next = join(dir, 'next.parquet');
    await sql(`COPY (SELECT ${columns(37)} FROM range(5000)) TO '${next}' (FORMAT parquet, COMPRESSION uncompressed)`);
    utimesSync(next, 1e9, 1e9);
    const [was, now] = [statSync(a), statSync(next)];
    expect([now.size, now.mtimeMs]).toEqual([was.size, was.mtimeMs]);
    renameSync(next, a);
    const { result, filesSkipped } = await skimWithResume(opts);
    expect(filesSkipped).toBe(0);
    const [expected] = await sql(`SELECT count(*)::INT AS n, sum(id)::BIGINT AS ids FROM '${a}' WHERE x > 50`);
    const [kept] = await sql(`SELECT count(*)::INT AS n, sum(id)::BIGINT AS ids FROM '${join(out, 'a.skim.parquet')}'`);
    expect(kept).toEqual(expected);
    expect(result.eventsKept).toBe(expected.n);
  });
});
