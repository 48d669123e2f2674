import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { type RunningServer, startServer } from '../../src/grpc/server.js';
import { runPipeline, type RunReport } from '../../src/pipeline/runPipeline.js';
import { toyPipelineYaml } from '../helpers/toyPipeline.js';

/** The same pipeline file twice, but for its source: the toy's Parquet file, then that file served over gRPC. */
const pipeline = (source: string) =>
  toyPipelineYaml({
    source,
    training: '{ epochs: 3, batchSize: 1024, learningRate: 0.02, seed: 5, shuffleBuffer: 4096 }',
    loss: '{ kind: bce, size: { lambda: 0.5 } }',
  });

describe('a pipeline trains from the gRPC source as from the Parquet files', () => {
  let dir: string;
  let server: RunningServer;
  let local: RunReport;
  let remote: RunReport;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-grpc-pipeline-'));
    await writeFile(
      join(dir, 'local.yaml'),
      pipeline('{ kind: parquet, paths: [toy.parquet], generate: toy2d, generateEvents: 3000 }'),
    );
    local = await runPipeline(join(dir, 'local.yaml'), { outDir: join(dir, 'local') });
    server = await startServer({ dataRoots: [dir], ...(await localServerOptions()) });
    await writeFile(
      join(dir, 'grpc.yaml'),
      pipeline(`{ kind: grpc, address: "127.0.0.1:${server.port}", paths: [toy.parquet] }`),
    );
    remote = await runPipeline(join(dir, 'grpc.yaml'), { outDir: join(dir, 'grpc') });
  });

  afterAll(async () => {
    await server?.close(500);
  });

  it('learns the same model with the same seed: cuts.json, model.json and weights.bin are identical', async () => {
    for (const file of ['cuts.json', 'model/model.json', 'model/weights.bin']) {
      const [a, b] = await Promise.all([readFile(join(dir, 'local', file)), readFile(join(dir, 'grpc', file))]);
      expect(b.equals(a), file).toBe(true);
    }
    expect(remote.auc).toBe(local.auc);
  });

  it('skims the same events (in-engine from the file, streamed from the server), and the counts add up', async () => {
    expect(remote.eventsIn).toBe(6000);
    expect([remote.eventsKept, remote.eventsCut]).toEqual([local.eventsKept, local.eventsCut]);
    expect(remote.eventsKept + remote.eventsCut).toBe(remote.eventsIn);
    expect(remote.eventsKept).toBeLessThan(remote.eventsIn);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const ids = async (files: string[]) =>
      (
        await db.runAndReadAll(
          `SELECT event_id FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}]) ORDER BY event_id`,
        )
      )
        .getRows()
        .map((r) => String(r[0]));
    expect(await ids(remote.skimFiles)).toEqual(await ids(local.skimFiles));
  });
});
