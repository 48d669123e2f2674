import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import type { HardCut } from '../../src/selection/cutsFile.js';
import { sql, tempDir } from '../parquet/helpers.js';

// `run` over a data tree with one file name in two run folders: one skim file each, mirrored.
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await writeFile(
    join(dir, 'gen.yaml'),
    `name: gen
source: { kind: parquet, paths: [toy.parquet], generate: toy2d, generateEvents: 3000 }
label: label
features: [x, y]
training: { epochs: 1, batchSize: 2048, seed: 1 }
`,
  );
  await runPipeline(join(dir, 'gen.yaml'), { outDir: join(dir, 'gen-run') }); // writes toy.parquet
  for (const year of ['2018', '2019']) {
    await mkdir(join(dir, 'data', year), { recursive: true });
    await copyFile(join(dir, 'toy.parquet'), join(dir, 'data', year, 'part0.parquet'));
  }
  await writeFile(
    join(dir, 'tree.yaml'),
    `name: tree
source: { kind: parquet, paths: [data] }
label: label
features: [x, y]
cuts: [{ column: x, op: ">" }, { column: y, op: ">" }]
training: { epochs: 2, batchSize: 2048, seed: 3 }
loss: { kind: bce, size: { lambda: 0.5 } }
`,
  );
}, 120_000);
afterAll(() => cleanup());

/** cuts.json's hard cuts as SQL, written here from their documented meaning. */
function where(cuts: HardCut[]): string {
  const one = (c: HardCut) =>
    c.op === 'between' ? `(${c.column} > ${c.low} AND ${c.column} < ${c.high})` : `${c.column} ${c.op} ${c.value}`;
  return cuts.length ? cuts.map(one).join(' AND ') : 'true';
}

describe('run', () => {
  it('writes one skim file per input at its path below the input folder, counts as DuckDB finds them', async () => {
    const out = join(dir, 'run');
    const report = await runPipeline(join(dir, 'tree.yaml'), { outDir: out });
    const skim = join(out, 'skim');
    const found = (await readdir(skim, { recursive: true })).filter((n) => n.endsWith('.skim.parquet')).sort();
    expect(found).toEqual(['2018/part0.skim.parquet', '2019/part0.skim.parquet']);
    expect(report.skimFiles).toEqual(found.map((n) => join(skim, n)));
    const cuts = JSON.parse(await readFile(join(out, 'cuts.json'), 'utf8'));
    let kept = 0;
    for (const year of ['2018', '2019']) {
      const input = join(dir, 'data', year, 'part0.parquet');
      const [r] = await sql(`SELECT count(*) AS n FROM read_parquet('${input}') WHERE ${where(cuts.cuts)}`);
      const [s] = await sql(`SELECT count(*) AS n FROM read_parquet('${join(skim, year, 'part0.skim.parquet')}')`);
      expect(Number(s.n)).toBe(Number(r.n));
      kept += Number(r.n);
    }
    expect(report.eventsKept).toBe(kept);
    expect(report.eventsIn).toBe(report.eventsKept + report.eventsCut);
  }, 120_000);

  it('run again into its folder: the earlier report goes first, and skim files of inputs gone since', async () => {
    for (const name of ['a', 'b']) {
      await mkdir(join(dir, 'again', name), { recursive: true });
      await copyFile(join(dir, 'toy.parquet'), join(dir, 'again', name, 'part0.parquet'));
    }
    const yaml = await readFile(join(dir, 'tree.yaml'), 'utf8');
    await writeFile(join(dir, 'again.yaml'), yaml.replace('paths: [data]', 'paths: [again]'));
    const out = join(dir, 'again-run');
    await runPipeline(join(dir, 'again.yaml'), { outDir: out });
    // Stopped in training: the earlier run's results stay whole.
    const stop = new AbortController();
    stop.abort();
    await expect(runPipeline(join(dir, 'again.yaml'), { outDir: out, signal: stop.signal })).rejects.toThrow();
    expect((await readdir(out)).filter((n) => n.startsWith('report.'))).toEqual(['report.html', 'report.json']);
    // An input removed: its skim (of the earlier run's cuts) is not left beside this run's, and the
    // earlier report goes when this run's results start to replace the earlier ones.
    await rm(join(dir, 'again', 'b'), { recursive: true });
    // (A skim that fails after training, on a file where its folder should be.)
    await rm(join(out, 'skim', 'a'), { recursive: true });
    await writeFile(join(out, 'skim', 'a'), '');
    await expect(runPipeline(join(dir, 'again.yaml'), { outDir: out })).rejects.toThrow();
    expect((await readdir(out)).filter((n) => n.startsWith('report.'))).toEqual([]);
    await rm(join(out, 'skim', 'a'));
    const report = await runPipeline(join(dir, 'again.yaml'), { outDir: out });
    const skim = join(out, 'skim');
    const onDisk = (await readdir(skim, { recursive: true })).filter((n) => n.endsWith('.skim.parquet'));
    expect(onDisk).toEqual(['a/part0.skim.parquet']);
    expect(report.skimFiles).toEqual(onDisk.map((n) => join(skim, n)));
    const cuts = JSON.parse(await readFile(join(out, 'cuts.json'), 'utf8'));
    const input = join(dir, 'again', 'a', 'part0.parquet');
    const [r] = await sql(`SELECT count(*) AS n FROM read_parquet('${input}') WHERE ${where(cuts.cuts)}`);
    const [s] = await sql(`SELECT count(*) AS n FROM read_parquet('${join(skim, onDisk[0])}')`);
    expect([report.eventsKept, Number(s.n)]).toEqual([Number(r.n), Number(r.n)]);
    expect(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')).skimFiles).toEqual(report.skimFiles);
  }, 120_000);

  it('refuses inputs that would write one skim file before training', async () => {
    const yaml = await readFile(join(dir, 'tree.yaml'), 'utf8');
    await writeFile(join(dir, 'clash.yaml'), yaml.replace('paths: [data]', 'paths: [data/2018, data/2019]'));
    const out = join(dir, 'clash');
    const [a, b] = ['2018', '2019'].map((y) => join(dir, 'data', y, 'part0.parquet'));
    const run = runPipeline(join(dir, 'clash.yaml'), { outDir: out });
    await expect(run).rejects.toThrow(`inputs ${a} and ${b} would both`);
    expect(await readdir(out)).toEqual([]); // no checkpoints, model or cuts: nothing was trained
  });
});
