import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { type RunningServer, startServer } from '../../src/grpc/server.js';
import { cutsToSql, readCutsFile } from '../../src/selection/cutsFile.js';
import { sql } from '../parquet/helpers.js';
import { toyPipelineYaml } from '../helpers/toyPipeline.js';

// examples/delivery-chain.ts run as a user would: server A serves a sample (part 0) for training,
// server B holds the full dataset (parts 0 and 1) in its own data root and skims it with the cuts.
let base: string;
let serverA: RunningServer;
let serverB: RunningServer;
const part = (i: number) => `mc/part-${i}.parquet`;

/** Two overlapping classes in x and y (DuckDB's own deterministic functions), label and weight. */
const toySql = (from: number, to: number) => `SELECT (i % 2)::INT AS label, 1.0::DOUBLE AS weight,
  (2 * sin(i * 1.7) + 1.5 * (i % 2))::DOUBLE AS x, (2 * cos(i * 0.9) + (i % 2))::DOUBLE AS y
  FROM range(${from}, ${to}) t(i)`;

/** Writes events [from, to) of the toy to `path` (in the data root `root`). */
const writeToy = (root: string, path: string, from: number, to: number) =>
  sql(`COPY (${toySql(from, to)}) TO '${join(base, root, path)}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'diffskim-chain-'));
  for (const root of ['a', 'b']) mkdirSync(join(base, root, 'mc'), { recursive: true });
  await writeToy('a', part(0), 0, 4000);
  for (const i of [0, 1]) await writeToy('b', part(i), i * 4000, (i + 1) * 4000);
  serverA = await startServer({ dataRoots: [join(base, 'a')], ...(await localServerOptions()) });
  serverB = await startServer({ dataRoots: [join(base, 'b')], ...(await localServerOptions()) });
  const source = `{ kind: grpc, address: "127.0.0.1:${serverA.port}", paths: [${part(0)}] }`;
  const training = '{ epochs: 3, batchSize: 512, learningRate: 0.02, seed: 5, shuffleBuffer: 4096 }';
  const loss = '{ kind: bce, size: { lambda: 0.5 } }';
  writeFileSync(join(base, 'chain.yaml'), toyPipelineYaml({ source, training, loss }));
  const more = 'skim: { scoreCut: 0.5 }';
  writeFileSync(join(base, 'score.yaml'), toyPipelineYaml({ source, training, loss, more }));
});

afterAll(async () => {
  await Promise.all([serverA?.close(500), serverB?.close(500)]);
  rmSync(base, { recursive: true, force: true });
});

/** Runs the example as a user would, from server A to server B, with chain.yaml unless --pipeline is given. */
const example = (out: string, ...args: string[]) =>
  promisify(execFile)(process.execPath, [
    ...['--import', 'tsx', 'examples/delivery-chain.ts', '--pipeline', join(base, 'chain.yaml'), '--out', out],
    ...['--skim-server', `127.0.0.1:${serverB.port}`, ...args],
  ]).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('examples/delivery-chain.ts', () => {
  it("trains from server A's stream, skims server B's full dataset with the cuts learned, counts add up", async () => {
    const run = join(base, 'run');
    const { code, stdout, stderr } = await example(run, '--skim-input', 'mc/*.parquet');
    expect(stderr).not.toContain('delivery-chain:');
    expect(code).toBe(0);

    // Server A served its 4000 events, from a file of that many bytes.
    const served = `served 4000 events, ${statSync(join(base, 'a', part(0))).size} bytes on disk (mc/part-0.parquet)`;
    expect(stdout).toContain(`server A 127.0.0.1:${serverA.port}: ${served}\n`);

    // The cuts printed are cuts.json's.
    const cuts = await readCutsFile(join(run, 'cuts.json'));
    expect(cuts.cuts.map((c) => c.column).sort()).toEqual(['x', 'y']);
    for (const c of cuts.cuts) if (c.op !== 'between') expect(stdout).toContain(`  ${c.column} ${c.op} ${c.value}\n`);

    // Server B's skim, against DuckDB's own count with cuts.json's SQL twin over B's full dataset.
    const where = cutsToSql(cuts.cuts);
    const full = [0, 1].map((i) => `'${join(base, 'b', part(i))}'`).join(', ');
    const [{ n, kept }] = (await sql(
      `SELECT count(*)::INT AS n, count(*) FILTER (WHERE ${where})::INT AS kept FROM read_parquet([${full}])`,
    )) as { n: number; kept: number }[];
    expect(n).toBe(8000);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(n);
    const files = 'skims/part-0.skim.parquet, skims/part-1.skim.parquet';
    expect(stdout).toContain(`RunSkim on server B: ${n} events in, ${kept} kept, ${n - kept} cut; ${files}\n`);
    expect(stdout).toContain(`counts add up: ${n} = ${kept} kept + ${n - kept} cut\n`);

    // The files B wrote hold exactly those events, and the bytes reported are the files' sizes.
    const skims = [0, 1].map((i) => `'${join(base, 'b', 'skims', `part-${i}.skim.parquet`)}'`).join(', ');
    const [{ all, passing }] = await sql(
      `SELECT count(*)::INT AS all, count(*) FILTER (WHERE ${where})::INT AS passing FROM read_parquet([${skims}])`,
    );
    expect([all, passing]).toEqual([kept, kept]);
    const size = (dir: string, suffix: string) =>
      [0, 1].reduce((sum, i) => sum + statSync(join(base, 'b', dir, `part-${i}${suffix}`)).size, 0);
    const [bytesIn, bytesOut] = [size('mc', '.parquet'), size('skims', '.skim.parquet')];
    expect(bytesOut).toBeLessThan(bytesIn);
    const percent = ((100 * (bytesIn - bytesOut)) / bytesIn).toFixed(1);
    expect(stdout).toContain(`server B 127.0.0.1:${serverB.port}: 2 file(s), ${n} events, ${bytesIn} bytes on disk\n`);
    expect(stdout).toContain(`bytes: ${bytesIn} in, ${bytesOut} out, ${bytesIn - bytesOut} saved (${percent} %)\n`);
  }, 120_000);

  it('refuses a path server B does not hold before training, in one line with exit status 1', async () => {
    const run = join(base, 'run-missing');
    const { code, stdout, stderr } = await example(run, '--skim-input', 'mc/missing.parquet');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^delivery-chain: gRPC Describe on \S+ failed \(NOT_FOUND\): .*mc\/missing\.parquet/);
    expect(stderr.trim().split('\n')).toHaveLength(1); // no stack trace, no training progress
    expect(stdout).toBe('');
    expect(existsSync(join(run, 'cuts.json'))).toBe(false);
  }, 120_000);

  it('refuses a score cut before training, and with --without-score pushes the hard cuts alone', async () => {
    const score = ['--pipeline', join(base, 'score.yaml'), '--skim-input', part(0), '--skim-out', 'skims-hard'];
    const refused = await example(join(base, 'run-refused'), ...score);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^delivery-chain: \S+score\.yaml: skim\.scoreCut needs .* --without-score/);
    expect(existsSync(join(base, 'run-refused', 'cuts.json'))).toBe(false);

    const run = join(base, 'run-score');
    const { code, stdout } = await example(run, ...score, '--without-score');
    expect(code).toBe(0);
    const cuts = await readCutsFile(join(run, 'cuts.json'));
    expect(cuts.score).not.toBeNull();
    const [{ kept }] = (await sql(
      `SELECT count(*)::INT AS kept FROM '${join(base, 'b', part(0))}' WHERE ${cutsToSql(cuts.cuts)}`,
    )) as { kept: number }[];
    expect(stdout).toContain(`RunSkim on server B: 4000 events in, ${kept} kept, ${4000 - kept} cut;`);
    // The run's own skim of the same events, with its score cut, keeps fewer.
    const report = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8')) as { eventsKept: number };
    expect(report.eventsKept).toBeLessThan(kept);
  }, 120_000);
});
