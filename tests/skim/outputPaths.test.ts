import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unaryCall } from '../../src/sources/grpc/client.js';
import { encodeCut } from '../../src/sources/grpc/codec.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import type { SkimReportMsg } from '../../src/sources/grpc/messages.js';
import { startServer } from '../../src/grpc/server.js';
import { inOwnFolders, skimOutputPaths } from '../../src/skim/outputPaths.js';
import { expandInputs } from '../../src/sources/expandInputs.js';
import { sql, tempDir } from '../parquet/helpers.js';
import { cli } from '../shard/helpers.js';

// A data tree as real productions name it: one file name in several run folders, a space and brackets in a
// folder name, and symbolic links that reach the same files again, in loops (self -> ., here -> ../2018).
let dir: string;
let cleanup: () => Promise<void>;
let cutsPath: string;
const CUT = 'met > 60';
const PARTS = ['2018/part0.parquet', '2019/part0.parquet', 'run [B]/part0.parquet'];
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  for (const [k, part] of PARTS.entries()) {
    await mkdir(join(dir, 'in', part, '..'), { recursive: true });
    const rows = 3000 + 1000 * k;
    const select = `SELECT i::INTEGER AS id, ((i * 37 + ${k}) % 100)::DOUBLE AS met FROM range(${rows}) t(i)`;
    await sql(`COPY (${select}) TO '${join(dir, 'in', part)}' (FORMAT parquet)`);
  }
  await symlink('.', join(dir, 'in', 'self'));
  await symlink('../2018', join(dir, 'in', '2018', 'here'));
  cutsPath = join(dir, 'cuts.json');
  await writeFile(cutsPath, JSON.stringify({ cuts: [{ column: 'met', op: '>', value: 60 }], score: null }));
});
afterAll(() => cleanup());

/** DuckDB's own count of each input and of the events it passes. */
async function reference(file: string): Promise<{ rows: number; kept: number }> {
  const [r] = await sql(`SELECT count(*) AS rows, count(*) FILTER (WHERE ${CUT}) AS kept FROM read_parquet('${file}')`);
  return { rows: Number(r.rows), kept: Number(r.kept) };
}

async function skimFilesBelow(out: string): Promise<string[]> {
  return (await readdir(out, { recursive: true })).filter((n) => n.endsWith('.skim.parquet')).sort();
}

describe('outputs mirror the input tree', () => {
  it('finds each file once through symbolic links (a loop does not hang) and names it below its root', async () => {
    const found = await expandInputs([join(dir, 'in')]);
    expect(found.map((f) => f.path)).toEqual(PARTS.map((p) => join(dir, 'in', p)));
    expect(skimOutputPaths(found)).toEqual(PARTS.map((p) => p.replace('.parquet', '.skim.parquet')));
    // a glob's root is its static prefix
    const glob = await expandInputs(['in/*/part0.parquet'], dir);
    expect(glob.map((f) => f.root)).toEqual(PARTS.map(() => join(dir, 'in')));
    // [, *, ? and spaces in a folder's files are only names (reading them is DuckDB's part)
    const odd = join(dir, 'odd', 'run [1]');
    await mkdir(odd, { recursive: true });
    for (const name of ['a*b?.parquet', 'c [2].root']) await writeFile(join(odd, name), '');
    const parquet = await expandInputs([join(dir, 'odd')]);
    expect(skimOutputPaths(parquet)).toEqual(['run [1]/a*b?.skim.parquet']);
    const both = [...parquet, ...(await expandInputs([join(dir, 'odd')], dir, 'root'))];
    expect(skimOutputPaths(both)).toEqual(['run [1]/a*b?.skim.parquet', 'run [1]/c [2].skim.parquet']);
    expect(() => skimOutputPaths(inOwnFolders(['/d/2018/part0.parquet', '/d/2019/part0.parquet']))).toThrow(
      'inputs /d/2018/part0.parquet and /d/2019/part0.parquet would both be skimmed to part0.skim.parquet',
    );
  });

  it('skim: one skim file per input at its relative path, counts per file as DuckDB counts them', async () => {
    const out = join(dir, 'out');
    const r = await cli(['skim', '--cuts', cutsPath, '--input', join(dir, 'in'), '--output', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const outputs = PARTS.map((p) => p.replace('.parquet', '.skim.parquet'));
    expect(await skimFilesBelow(out)).toEqual(outputs);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    for (const [k, part] of PARTS.entries()) {
      const want = await reference(join(dir, 'in', part));
      const f = report.files[k];
      expect([f.input, f.output]).toEqual([join(dir, 'in', part), join(out, outputs[k])]);
      expect([f.eventsIn, f.eventsKept]).toEqual([want.rows, want.kept]);
      expect((await reference(f.output)).rows).toBe(want.kept);
    }
    expect(report.eventsIn).toBe(report.eventsKept + report.eventsCut);
  });

  it('refuses inputs that would write one skim file, naming both, before writing anything', async () => {
    const out = join(dir, 'clash');
    const [a, b] = ['2018', '2019'].map((y) => join(dir, 'in', y));
    const r = await cli(['skim', '--cuts', cutsPath, '--input', a, b, '--output', out]);
    expect(r.code).toBe(1);
    const both = `inputs ${join(a, 'part0.parquet')} and ${join(b, 'part0.parquet')}`;
    expect(r.stderr).toContain(`${both} would both be skimmed to part0.skim.parquet`);
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('shards and merge: the same mirrored outputs, every input accounted for', async () => {
    const out = join(dir, 'sharded');
    for (const index of [0, 1]) {
      const args = ['skim', '--cuts', cutsPath, '--input', join(dir, 'in'), '--output', out];
      const r = await cli([...args, '--shard', `${index}/2`]);
      expect(r.stderr).toBe('');
    }
    const merged = await cli(['merge', out]);
    expect(merged.stderr).toBe('');
    expect(await skimFilesBelow(out)).toEqual(PARTS.map((p) => p.replace('.parquet', '.skim.parquet')));
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    let kept = 0;
    for (const part of PARTS) kept += (await reference(join(dir, 'in', part))).kept;
    expect(report.eventsKept).toBe(kept);
    expect(report.inputs).toEqual(PARTS.map((p) => join(dir, 'in', p)));
  });

  it('RunSkim: a file reached through an in-root link out of the searched folder is refused, nothing written outside', async () => {
    await mkdir(join(dir, 'linked', 'in'), { recursive: true });
    await symlink('../../in/2019', join(dir, 'linked', 'in', 'elsewhere'));
    const server = await startServer({ dataRoots: [dir], ...(await localServerOptions()) });
    try {
      const request = {
        inputs: ['linked/in'],
        cuts: [encodeCut({ column: 'met', op: '>', value: 60 })],
        outputDir: 'linked/out',
      };
      const e = (await unaryCall(`127.0.0.1:${server.port}`, {}, 'runSkim', request).catch((x: Error) => x)) as Error;
      expect(e.message).toMatch(/INVALID_ARGUMENT.*in\/2019\/part0.parquet is not below linked\/in.*name it directly/);
      expect(await skimFilesBelow(join(dir, 'linked'))).toEqual([]);
      expect(await skimFilesBelow(join(dir, 'in'))).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it('RunSkim: a second skim of other cuts into the folder is refused (FAILED_PRECONDITION), files untouched', async () => {
    const server = await startServer({ dataRoots: [dir], ...(await localServerOptions()) });
    try {
      const call = (value: number) =>
        unaryCall<SkimReportMsg>(`127.0.0.1:${server.port}`, {}, 'runSkim', {
          inputs: ['in'],
          cuts: [encodeCut({ column: 'met', op: '>', value })],
          outputDir: 'twice',
        });
      const first = await call(60);
      const sizes = async () =>
        Promise.all(
          (await skimFilesBelow(join(dir, 'twice'))).map(async (f) => (await readFile(join(dir, 'twice', f))).length),
        );
      const before = await sizes();
      const e = (await call(30).catch((x: Error) => x)) as Error;
      expect(e.message).toMatch(
        /FAILED_PRECONDITION.*twice\/manifest.json was written with other cuts\/keep\/codec settings/,
      );
      expect(await sizes()).toEqual(before);
      // The same skim again: every file is found done, the same figures.
      const again = await call(60);
      expect([again.eventsIn, again.eventsKept]).toEqual([first.eventsIn, first.eventsKept]);
    } finally {
      await server.close();
    }
  });

  it('RunSkim: the same mirrored outputs under output_dir, named relative to the data root', async () => {
    const server = await startServer({ dataRoots: [dir], ...(await localServerOptions()) });
    try {
      const request = { inputs: ['in'], cuts: [encodeCut({ column: 'met', op: '>', value: 60 })], outputDir: 'served' };
      const report = await unaryCall<SkimReportMsg>(`127.0.0.1:${server.port}`, {}, 'runSkim', request);
      const outputs = PARTS.map((p) => p.replace('.parquet', '.skim.parquet'));
      expect(report.skimFiles).toEqual(outputs.map((o) => join('served', o)));
      expect(await skimFilesBelow(join(dir, 'served'))).toEqual(outputs);
      let kept = 0;
      for (const part of PARTS) kept += (await reference(join(dir, 'in', part))).kept;
      expect(Number(report.eventsKept)).toBe(kept);
    } finally {
      await server.close();
    }
  });
});
