import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { type RunningServer, startServer } from '../../src/grpc/server.js';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { unaryCall } from '../../src/sources/grpc/client.js';
import { cli } from '../shard/helpers.js';

/**
 * A mistyped column to keep gets one message on every path that skims (src/skim/skimColumns.ts):
 * the file, the column and the closest name, before anything is written.
 */
describe('keep/cut column checks: one message on every path', () => {
  let dir: string;
  let server: RunningServer;
  /** The message's words after the file (each path names the file its own way: local or under the data root). */
  const after = (message: string, file: string) => {
    const at = message.indexOf(`${file}: `);
    expect(at, message).toBeGreaterThanOrEqual(0);
    return message.slice(at + file.length + 2).trim();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-columns-'));
    await writeFile(
      join(dir, 'toy.yaml'),
      `name: toy
source: { kind: parquet, paths: [toy.parquet], generate: toy2d, generateEvents: 500 }
label: label
features: [x, y]
cuts: [{ column: x, op: ">" }]
training: { epochs: 1, batchSize: 256, seed: 5 }
skim: { keep: [x, yy] }
`,
    );
    await writeFile(
      join(dir, 'cuts.json'),
      JSON.stringify({ cuts: [{ column: 'x', op: '>', value: 0 }], score: null }),
    );
    server = await startServer({ dataRoots: [dir], ...(await localServerOptions()) });
  });
  afterAll(() => server?.close(100));

  it('diffskim run, diffskim skim and RunSkim name the file and the closest column alike', async () => {
    const file = join(dir, 'toy.parquet');
    const run = await runPipeline(join(dir, 'toy.yaml'), { outDir: join(dir, 'run') }).catch((e: Error) => e);
    expect(run).toBeInstanceOf(Error);
    const words = after((run as Error).message, file);
    expect(words).toMatch(/^no column 'yy' \(closest: 'y'\)/);

    const skim = await cli([
      'skim',
      ...['--cuts', join(dir, 'cuts.json'), '--input', file, '--output', join(dir, 'cli'), '--keep', 'x,yy'],
    ]);
    expect(skim.code).not.toBe(0);
    expect(after(skim.stderr, file)).toBe(words);

    const rpc = await unaryCall(`127.0.0.1:${server.port}`, {}, 'runSkim', {
      inputs: ['toy.parquet'],
      cuts: [],
      outputDir: 'rpc',
      keep: ['x', 'yy'],
    }).catch((e: Error) => e);
    expect((rpc as Error).message).toMatch(/INVALID_ARGUMENT/);
    expect(after((rpc as Error).message, 'toy.parquet')).toBe(words);
  });
});
