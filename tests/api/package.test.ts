import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHep } from '../../scripts/gen-hep.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');

/** A user's project: TypeScript importing the package by its name, compiled by tsc against its types. */
const CONSUMER = `import { InputError, readCutsFile, runSkim, type SkimResult } from 'diffskim';

const [cutsPath, input, outDir] = process.argv.slice(2);
const result: SkimResult = await runSkim({ inputs: [input], cuts: await readCutsFile(cutsPath), outDir });
const { eventsIn, eventsKept, eventsCut, skimFiles } = result;
const bad = await runSkim({ inputs: [cutsPath], cuts: await readCutsFile(cutsPath), outDir }).catch((e: unknown) => e);
console.log(JSON.stringify({ eventsIn, eventsKept, eventsCut, skimFiles, badIsInputError: bad instanceof InputError }));
`;

/**
 * docs/api.md's examples as one TypeScript file, each in a block of its own, with what they take
 * for granted declared, so that tsc checks them against the package's types.
 */
async function docsExamples(): Promise<string> {
  const doc = await readFile(join(REPO, 'docs/api.md'), 'utf8');
  const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1].replace(/^import .*\n/gm, ''));
  const names = Object.keys(await import(join(REPO, 'dist/index.js')));
  return [
    "import { lastValueFrom, reduce, toArray } from 'rxjs';",
    `import { ${names.join(', ')}, type CutsFile, type EventBatch } from 'diffskim';`,
    'declare const cuts: CutsFile;',
    'declare const batches: AsyncIterable<EventBatch>;',
    'export async function examples(): Promise<void> {',
    ...blocks.map((b) => `{\n${b}}`),
    '}',
  ].join('\n');
}

describe("the package 'diffskim' (exports map, dist/)", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-api-'));
    await mkdir(join(dir, 'node_modules'));
    await symlink(REPO, join(dir, 'node_modules', 'diffskim'));
    await symlink(join(REPO, 'node_modules/rxjs'), join(dir, 'node_modules', 'rxjs'));
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    const compilerOptions = {
      module: 'NodeNext',
      target: 'ES2022',
      strict: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(REPO, 'node_modules/@types')],
    };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['consumer.ts', 'docs.ts'] }));
    await writeFile(join(dir, 'consumer.ts'), CONSUMER);
    await writeFile(join(dir, 'docs.ts'), await docsExamples());
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("type-checks docs/api.md's examples and a consumer, and runs its skim: counts as DuckDB counts them", async () => {
    const input = join(dir, 'events.parquet');
    await generateHep(input, 20_000, { rowGroupRows: 5_000 });
    const cuts = [
      { column: 'met', op: '>', value: 30 },
      { column: 'lep1_pt', op: '>', value: 20 },
    ];
    await writeFile(join(dir, 'cuts.json'), JSON.stringify({ cuts, score: null }));

    await run('node', [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', dir]).catch((e: { stdout: string }) => {
      throw new Error(`tsc found errors:\n${e.stdout}`);
    });
    const { stdout } = await run('node', [join(dir, 'consumer.js'), join(dir, 'cuts.json'), input, join(dir, 'out')]);
    const r = JSON.parse(stdout) as {
      eventsIn: number;
      eventsKept: number;
      eventsCut: number;
      skimFiles: string[];
      badIsInputError: boolean;
    };

    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const count = async (sql: string) => Number((await db.runAndReadAll(sql)).getRows()[0][0]);
    const pass = 'met > 30 AND NOT isnan(met) AND lep1_pt > 20 AND NOT isnan(lep1_pt)';
    expect(r.eventsIn).toBe(await count(`SELECT count(*) FROM '${input}'`));
    expect(r.eventsKept).toBe(await count(`SELECT count(*) FROM '${input}' WHERE ${pass}`));
    expect(r.eventsKept + r.eventsCut).toBe(r.eventsIn);
    expect(r.skimFiles).toHaveLength(1);
    const kept = `SELECT sum(event), sum(met) FROM '${input}' WHERE ${pass}`;
    const written = `SELECT sum(event), sum(met) FROM '${r.skimFiles[0]}'`;
    expect((await db.runAndReadAll(written)).getRows()).toEqual((await db.runAndReadAll(kept)).getRows());
    expect(r.badIsInputError).toBe(true); // cuts.json given as an input: not Parquet
    db.closeSync();
  });
});
