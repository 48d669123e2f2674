import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'diffskim-chain-'));
  for (const root of ['a', 'b']) mkdirSync(join(base, root, 'mc'), { recursive: true });
  await sql(`COPY (${toySql(0, 4000)}) TO '${join(base, 'a', part(0))}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  for (const i of [0, 1]) {
    await sql(`COPY (${toySql(i * 4000, (i + 1) * 4000)}) TO '${join(base, 'b', part(i))}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  }
  serverA = await startServer({ dataRoots: [join(base, 'a')], ...(await localServerOptions()) });
  serverB = await startServer({ dataRoots: [join(base, 'b')], ...(await localServerOptions()) });
  const source = `{ kind: grpc, address: "127.0.0.1:${serverA.port}", paths: [${part(0)}] }`;
  const training = '{ epochs: 3, batchSize: 512, learningRate: 0.02, seed: 5, shuffleBuffer: 4096 }';
  writeFileSync(join(base, 'chain.yaml'), toyPipelineYaml({ source, training, loss: '{ kind: bce, size: { lambda: 0.5 } }' }));
});

afterAll(async () => {
  await Promise.all([serverA?.close(500), serverB?.close(500)]);
  rmSync(base, { recursive: true, force: true });
});

const example = (...args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'examples/delivery-chain.ts', ...args]).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('examples/delivery-chain.ts', () => {
  it("trains from server A's stream and skims server B's full dataset with the cuts learned; counts add up", async () => {
    const run = join(base, 'run');
    const { code, stdout, stderr } = await example(
      ...['--pipeline', join(base, 'chain.yaml'), '--out', run, '--skim-server', `127.0.0.1:${serverB.port}`],
      ...['--skim-input', 'mc/*.parquet', '--skim-out', 'skims'],
    );
    expect(stderr).not.toContain('delivery-chain:');
    expect(code).toBe(0);

    // Server A served its 4000 events.
    const [{ bytes }] = await sql(`SELECT sum(total_compressed_size)::BIGINT AS bytes FROM parquet_metadata('${join(base, 'a', part(0))}')`);
    expect(stdout).toMatch(/^server A 127\.0\.0\.1:\d+: served 4000 events, [\d.]+ MB on disk \(mc\/part-0\.parquet\)$/m);
    expect(Number(bytes)).toBeGreaterThan(0);

    // The cuts printed are cuts.json's, and they cut something.
    const cuts = await readCutsFile(join(run, 'cuts.json'));
    expect(cuts.cuts.map((c) => c.column).sort()).toEqual(['x', 'y']);
    for (const c of cuts.cuts) if (c.op !== 'between') expect(stdout).toContain(`  ${c.column} ${c.op} ${c.value}\n`);

    // Server B's skim, against DuckDB's own count with cuts.json's SQL twin over B's full dataset.
    const full = [0, 1].map((i) => `'${join(base, 'b', part(i))}'`).join(', ');
    const [{ n, kept }] = await sql(`SELECT count(*)::INT AS n, count(*) FILTER (WHERE ${cutsToSql(cuts.cuts)})::INT AS kept FROM read_parquet([${full}])`);
    expect(n).toBe(8000);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(n as number);
    const files = 'skims/part-0.skim.parquet, skims/part-1.skim.parquet';
    expect(stdout).toContain(`RunSkim: ${n} events in, ${kept} kept, ${(n as number) - (kept as number)} cut; ${files}`);
    expect(stdout).toContain(`counts add up: ${n} = ${kept} kept + ${(n as number) - (kept as number)} cut`);

    // The files B wrote hold exactly those events, and the bytes reported are the files' sizes.
    const skims = [0, 1].map((i) => `'${join(base, 'b', 'skims', `part-${i}.skim.parquet`)}'`).join(', ');
    const [{ rows }] = await sql(`SELECT count(*)::INT AS rows FROM read_parquet([${skims}]) WHERE ${cutsToSql(cuts.cuts)}`);
    const [{ all }] = await sql(`SELECT count(*)::INT AS all FROM read_parquet([${skims}])`);
    expect([rows, all]).toEqual([kept, kept]);
    const bytesLine = stdout.match(/^bytes: ([\d.]+) MB in, ([\d.]+) MB out, ([\d.]+) MB saved \(([\d.]+) %\)$/m);
    expect(bytesLine).not.toBeNull();
    const [inMb, outMb, savedMb] = bytesLine!.slice(1, 4).map(Number);
    expect(savedMb).toBeCloseTo(inMb - outMb, 3);
    expect(outMb).toBeLessThan(inMb);
  }, 120_000);

  it('says in one line, with exit status 1, when server B refuses the skim', async () => {
    const { code, stderr } = await example(
      ...['--pipeline', join(base, 'chain.yaml'), '--out', join(base, 'run2'), '--skim-server', `127.0.0.1:${serverB.port}`],
      ...['--skim-input', 'mc/missing.parquet'],
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/^delivery-chain: gRPC RunSkim on \S+ failed \(NOT_FOUND\)/m);
    expect(stderr.trim().split('\n').filter((l) => l.startsWith('delivery-chain:'))).toHaveLength(1);
  }, 120_000);
});
