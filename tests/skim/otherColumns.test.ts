import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { unaryCall } from '../../src/sources/grpc/client.js';
import { encodeCut } from '../../src/sources/grpc/codec.js';
import { grpcSource } from '../../src/sources/grpc/grpcSource.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { saveModel } from '../../src/model/io.js';
import { createModel } from '../../src/model/model.js';
import { type RunningServer, startServer } from '../../src/grpc/server.js';
import type { CutsFile } from '../../src/selection/cutsFile.js';
import { notWrittenWarning } from '../../src/skim/notWritten.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { skimStream } from '../../src/skim/skimStream.js';
import { rootSource } from '../../src/sources/rootSource.js';
import { ZMUMU } from '../root/reference.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { readParquetMeta } from '../../src/sources/parquetMeta.js';
import { eventBytesModel, skimColumns } from '../../src/training/eventBytes.js';
import { sql, tempDir } from '../parquet/helpers.js';

/**
 * Columns diffskim does not read into batches (a string, a struct of lists, a list of structs,
 * as awkward writes jagged records) still belong to the events: a skim must not drop them silently.
 */
let dir: string;
let cleanup: () => Promise<void>;
let input: string;
const CUTS: CutsFile = { cuts: [{ column: 'x', op: '>', value: 50 }], score: null };
const CUTS_M: CutsFile = { cuts: [{ column: 'M', op: '>', value: 80 }], score: null };
const rows = (file: string, where = '') => sql(`SELECT * FROM read_parquet('${file}') ${where} ORDER BY id`);

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  input = join(dir, 'events.parquet');
  await sql(`COPY (SELECT i::INTEGER AS id, (i * 0.1)::FLOAT AS x, 'run' || (i % 3) AS tag,
      {'pt': [(i % 7)::FLOAT, 2.5::FLOAT], 'eta': [(i % 5)::FLOAT]} AS Jet,
      [{'pt': (i % 11)::FLOAT, 'charge': (i % 2)::TINYINT} FOR k IN range(i % 3)] AS Muon
    FROM range(1000) t(i)) TO '${input}' (FORMAT parquet, ROW_GROUP_SIZE 300)`);
});
afterAll(() => cleanup());

describe('columns diffskim does not read', () => {
  it('are carried whole by the in-engine skim: every column, every value, nothing counted as saved by columns', async () => {
    const r = await runSkim({ inputs: [input], cuts: CUTS, outDir: join(dir, 'all') });
    expect(r.eventsKept).toBe(499);
    expect(await rows(r.skimFiles[0])).toEqual(await rows(input, 'WHERE x > 50'));
    expect(r.bytesSavedByColumns).toBe(0);
  });

  it('can be named in keep', async () => {
    const r = await runSkim({ inputs: [input], cuts: CUTS, outDir: join(dir, 'keep'), keep: ['id', 'Muon'] });
    expect(await rows(r.skimFiles[0])).toEqual(
      await sql(`SELECT id, Muon FROM read_parquet('${input}') WHERE x > 50 ORDER BY id`),
    );
  });

  it('must be in every input the skim keeps them from', async () => {
    const plain = join(dir, 'plain.parquet');
    await sql(`COPY (SELECT id, x FROM read_parquet('${input}')) TO '${plain}' (FORMAT parquet)`);
    await expect(runSkim({ inputs: [input, plain], cuts: CUTS, outDir: join(dir, 'two') })).rejects.toThrow(
      `${plain}: no column 'tag', which ${input} has; name the columns to keep (--keep)`,
    );
    // In the other order too: the first file's columns are not the only ones a skim keeps.
    await expect(runSkim({ inputs: [plain, input], cuts: CUTS, outDir: join(dir, 'two') })).rejects.toThrow(
      `${input} has a column 'tag' that ${plain} lacks; name the columns to keep (--keep)`,
    );
    const r = await runSkim({ inputs: [input, plain], cuts: CUTS, outDir: join(dir, 'two'), keep: ['id', 'x'] });
    expect(r.eventsKept).toBe(2 * 499);
  });

  it('count all their leaves in the file metadata (bytes of a struct = the sum of its fields)', async () => {
    const meta = await readParquetMeta(input);
    expect(meta.columns).toEqual(['id', 'x', 'tag', 'Jet', 'Muon']);
    expect(meta.unsupported.map((u) => u.name)).toEqual(['tag', 'Jet', 'Muon']);
    const leaves =
      await sql(`SELECT row_group_id AS g, sum(total_compressed_size)::INTEGER AS bytes FROM parquet_metadata('${input}')
      WHERE path_in_schema LIKE 'Jet,%' GROUP BY g ORDER BY g`);
    expect(meta.rowGroups.map((g) => g.columns.Jet.compressedBytes)).toEqual(leaves.map((l) => l.bytes));
    expect(meta.rowGroups[0].columns.Jet.min).toBeNull();
  });

  it('count in the size term as the in-engine skim keeps them, and not for a streaming skim', async () => {
    const info = await parquetSource([input]).describe();
    const bytesOf = (names: string[]) => names.reduce((s, n) => s + info.columnBytes[n], 0);
    const inEngine = eventBytesModel(info, skimColumns(info, true));
    expect(inEngine.bytesIn).toBe(bytesOf(['id', 'x', 'tag', 'Jet', 'Muon']));
    expect(inEngine.fixed).toBeCloseTo(inEngine.bytesIn / 1000, 9);
    expect(eventBytesModel(info, skimColumns(info, false)).bytesIn).toBe(bytesOf(['id', 'x']));
    expect(eventBytesModel(info, ['x', 'Jet']).bytesIn).toBe(bytesOf(['x', 'Jet']));
  });

  it('are left out of a skim with a score cut, which says so; naming one in keep is an error', async () => {
    const score = { fn: (b: { length: number }) => new Float32Array(b.length).fill(1), threshold: 0.5, columns: ['x'] };
    const scored: CutsFile = { ...CUTS, score: { op: '>', value: 0.5 } };
    const r = await runSkim({ inputs: [input], cuts: scored, score, outDir: join(dir, 'score') });
    expect(await rows(r.skimFiles[0])).toEqual(
      await sql(`SELECT id, x FROM read_parquet('${input}') WHERE x > 50 ORDER BY id`),
    );
    expect(r.columnsNotWritten.map((c) => c.name)).toEqual(['tag', 'Jet', 'Muon']);
    expect(r.bytesSavedByColumns).toBeGreaterThan(0);
    await expect(
      runSkim({ inputs: [input], cuts: scored, score, outDir: join(dir, 'score-keep'), keep: ['id', 'tag'] }),
    ).rejects.toThrow(
      /events\.parquet: cannot keep column\(s\) 'tag' \(VARCHAR\): a streaming skim \(score cut, ROOT or gRPC source\) holds numbers/,
    );
    const chosen = await runSkim({
      inputs: [input],
      cuts: scored,
      score,
      outDir: join(dir, 'score-keep'),
      keep: ['id'],
    });
    expect(chosen.columnsNotWritten).toEqual([]);
  });

  it('of a ROOT file: the streaming skim writes the branches it reads and lists the rest', async () => {
    const r = await skimStream({
      source: rootSource([ZMUMU]),
      inputs: [ZMUMU],
      name: 'zmumu',
      cuts: CUTS_M,
      outDir: join(dir, 'root'),
    });
    expect(r.columnsNotWritten).toEqual([{ name: 'Type', type: expect.stringMatching(/string/) }]);
    expect(r.eventsKept).toBeGreaterThan(0);
    expect(notWrittenWarning(r.columnsNotWritten)).toMatch(/^not written to the skim: 'Type' \(a string/);
    await expect(
      skimStream({
        source: rootSource([ZMUMU]),
        inputs: [ZMUMU],
        name: 'zmumu-type',
        cuts: CUTS_M,
        outDir: join(dir, 'root'),
        keep: ['M', 'Type'],
      }),
    ).rejects.toThrow(/^zmumu-type: cannot keep column\(s\) 'Type' \(a string/);
  });

  describe('over RunSkim', () => {
    let server: RunningServer;
    beforeAll(async () => {
      const model = join(dir, 'model');
      await saveModel(
        model,
        createModel({
          kind: 'cuts-x-mlp',
          features: ['x'],
          inputMean: [50],
          inputStd: [30],
          hidden: [4],
          cuts: [],
          seed: 3,
        }),
      );
      server = await startServer({ dataRoots: [dir], ...(await localServerOptions(model)) });
    });
    afterAll(() => server.close(500));
    const call = (req: object) =>
      unaryCall<{ skimFiles: string[]; eventsKept: number; reportJson: string }>(
        `127.0.0.1:${server.port}`,
        {},
        'runSkim',
        { inputs: ['events.parquet'], cuts: CUTS.cuts.map(encodeCut), ...req },
      );

    it('a skim of the gRPC source names them too (the server describes them)', async () => {
      const source = grpcSource(`127.0.0.1:${server.port}`, { paths: ['events.parquet'] });
      expect((await source.describe()).unsupported?.map((u) => u.name)).toEqual(['tag', 'Jet', 'Muon']);
      const r = await skimStream({ source, inputs: [], name: 'remote', cuts: CUTS, outDir: join(dir, 'grpc') });
      expect(r.columnsNotWritten.map((c) => c.name)).toEqual(['tag', 'Jet', 'Muon']);
      expect(await rows(r.skimFiles[0])).toEqual(
        await sql(`SELECT id, x FROM read_parquet('${input}') WHERE x > 50 ORDER BY id`),
      );
    });

    it('keep may name them; with a score cut they are left out and reported, and naming one is INVALID_ARGUMENT', async () => {
      const r = await call({ outputDir: 'rpc', keep: ['id', 'tag'] });
      expect(await rows(join(dir, r.skimFiles[0]))).toEqual(
        await sql(`SELECT id, tag FROM read_parquet('${input}') WHERE x > 50 ORDER BY id`),
      );
      const scored = await call({ outputDir: 'rpc-score', scoreCut: true, scoreThreshold: 0.5 });
      expect(JSON.parse(scored.reportJson).columnsNotWritten.map((c: { name: string }) => c.name)).toEqual([
        'tag',
        'Jet',
        'Muon',
      ]);
      await expect(
        call({ outputDir: 'rpc-score-keep', scoreCut: true, scoreThreshold: 0.5, keep: ['id', 'tag'] }),
      ).rejects.toMatchObject({
        code: status.INVALID_ARGUMENT,
        message: expect.stringMatching(/events\.parquet: cannot keep column\(s\) 'tag' \(VARCHAR\)/),
      });
    });
  });
});
