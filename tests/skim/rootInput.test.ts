import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, tempDir } from '../parquet/helpers.js';
import { referenceRead, ZMUMU } from '../root/reference.js';
import { cli } from '../shard/helpers.js';

// `diffskim skim` given ROOT files: it streams them (as `run` does) into Parquet skim files at
// their relative paths, rather than failing on a Parquet footer.
let dir: string;
let cleanup: () => Promise<void>;
let masses: number[];
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  for (const year of ['2011', '2012']) {
    await mkdir(join(dir, 'data', year), { recursive: true });
    await copyFile(ZMUMU, join(dir, 'data', year, 'Zmumu.root'));
  }
  await writeFile(join(dir, 'cuts.json'), JSON.stringify({ cuts: [{ column: 'M', op: '>', value: 80 }], score: null }));
  masses = (await referenceRead(ZMUMU, 'events', ['M'])).M as number[]; // jsroot's own reader
});
afterAll(() => cleanup());

describe('skim of ROOT files', () => {
  it('writes each as a Parquet skim file at its relative path, counts as the reference reader finds them', async () => {
    const out = join(dir, 'out');
    const input = join(dir, 'data', '*', 'Zmumu.root');
    const cuts = join(dir, 'cuts.json');
    const r = await cli(['skim', '--cuts', cuts, '--input', input, '--output', out, '--keep', 'M,Run,Event']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    const kept = masses.filter((m) => m > 80).length;
    const outputs = ['2011', '2012'].map((y) => join(out, y, 'Zmumu.skim.parquet'));
    expect(report.files.map((f: { output: string }) => f.output)).toEqual(outputs);
    for (const f of report.files) {
      expect([f.eventsIn, f.eventsKept]).toEqual([masses.length, kept]);
      const [s] = await sql(`SELECT count(*) AS n, min(M) > 80 AS above FROM read_parquet('${f.output}')`);
      expect([Number(s.n), s.above]).toEqual([kept, true]);
    }
    expect(report.eventsIn).toBe(report.eventsKept + report.eventsCut);
  });

  it('a sharded skim says it reads Parquet, naming the ROOT file', async () => {
    const input = join(dir, 'data', '2011', 'Zmumu.root');
    const out = join(dir, 'sharded');
    const r = await cli(['skim', '--cuts', join(dir, 'cuts.json'), '--input', input, '--output', out, '--shard=0/1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${input}: a sharded skim reads Parquet; skim ROOT files without --shard`);
  });
});
