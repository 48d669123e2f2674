import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, tempDir } from '../parquet/helpers.js';

const run = promisify(execFile);
let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await sql(
    `COPY (SELECT i::INTEGER AS id, (i % 100)::FLOAT AS met FROM range(5000) t(i)) TO '${join(dir, 'in.parquet')}' (FORMAT parquet)`,
  );
  await writeFile(join(dir, 'cuts.json'), JSON.stringify({ cuts: [{ column: 'met', op: '>', value: 89.5 }] }));
  await writeFile(join(dir, 'typo.json'), JSON.stringify({ cuts: [{ column: 'mett', op: '>', value: 1 }] }));
});
afterAll(() => cleanup());

describe('diffskim skim', () => {
  it('writes the skim and report.json, and prints a summary', async () => {
    const out = join(dir, 'out');
    const { stdout } = await run('node', [
      'bin/diffskim.mjs',
      '-q',
      'skim',
      '--cuts',
      join(dir, 'cuts.json'),
      '--input',
      join(dir, '*.parquet'),
      '--output',
      out,
      '--codec',
      'zstd',
    ]);
    expect(stdout).toMatch(/events: 5000 in, 500 kept \(10\.0%\), 4500 cut/);
    expect((await readdir(out)).sort()).toEqual(['in.skim.parquet', 'manifest.json', 'report.json']);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.eventsKept).toBe(500);
    expect(report.bytesOut).toBe((await stat(join(out, 'in.skim.parquet'))).size);
  });

  it('never takes its own skim files for inputs when the output folder is inside an input folder', async () => {
    const data = join(dir, 'nested');
    await mkdir(data);
    await copyFile(join(dir, 'in.parquet'), join(data, 'in.parquet'));
    const out = join(data, 'skim');
    const args = ['bin/diffskim.mjs', '-q', 'skim', '--cuts', join(dir, 'cuts.json'), '--input', data, '--output', out];
    await run('node', args);
    const { stdout } = await run('node', args); // a re-run: skim/in.skim.parquet is now under --input
    expect(stdout).toMatch(/events: 5000 in, 500 kept/);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.inputs).toEqual([join(data, 'in.parquet')]);
    expect((await readdir(out)).sort()).toEqual(['in.skim.parquet', 'manifest.json', 'report.json']);
  });

  it('fails with the closest column name for a typo', async () => {
    const err = await run('node', [
      'bin/diffskim.mjs',
      '-q',
      'skim',
      '--cuts',
      join(dir, 'typo.json'),
      '--input',
      join(dir, 'in.parquet'),
      '--output',
      join(dir, 'x'),
    ]).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/no column 'mett' \(closest: 'met'\)/);
  });
});
