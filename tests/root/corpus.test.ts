import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { lastValueFrom, toArray } from 'rxjs';
import { status } from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { convertRootToParquet } from '../../src/pipeline/convertRoot.js';
import { grpcSource } from '../../src/sources/grpc/grpcSource.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { startServer } from '../../src/grpc/server.js';
import { InputError } from '../../src/sources/inputError.js';
import { rootSource } from '../../src/sources/rootSource.js';
import { openRootTree } from '../../src/sources/rootTree.js';
import { batchValues, hyparquetColumns, referenceRead } from './reference.js';
import { samplePattern } from './samplePattern.js';

/** A few files of scikit-hep-testdata (BSD-3-Clause, see the LICENSE beside them), written by ROOT. */
const CORPUS = 'tests/fixtures/root-corpus';
const SAMPLES = ['uproot-sample-6.20.04-uncompressed.root', 'uproot-sample-5.23.02-zlib.root'];
const EXPECTED = samplePattern();
const dir = mkdtempSync(join(tmpdir(), 'diffskim-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (path: string, columns?: string[]) =>
  lastValueFrom(rootSource([path]).batches({ columns, batchRows: 7 }).pipe(toArray()));
const failure = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: Error) => e.message,
  );
const cli = (...args: string[]) =>
  promisify(execFile)('node', ['bin/diffskim.mjs', ...args]).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('ROOT files of every branch type (uproot sample files) against the values their macro wrote', () => {
  for (const file of SAMPLES) {
    it(`${file}: every numeric branch read exactly, Char_t arrays as int8 lists (they were text: 0s)`, async () => {
      const batches = await read(join(CORPUS, file));
      const schema = batches[0].schema;
      // Every branch but the string 'str', in tree order: scalars, fixed arrays ab[3], arrays Ab[n].
      expect(schema.map((f) => f.name)).toEqual(Object.keys(EXPECTED));
      expect(schema.find((f) => f.name === 'ai1')).toMatchObject({ type: 'int8', list: true });
      for (const f of schema) expect(batchValues(batches, f.name), f.name).toEqual(EXPECTED[f.name]);
      const derived = await read(join(CORPUS, file), ['count(ai1)', 'first(ai1)', 'first(au1)']);
      expect(batchValues(derived, 'count(ai1)')).toEqual(EXPECTED.ai1.map(() => 3));
      expect(batchValues(derived, 'first(ai1)')).toEqual(EXPECTED.ai1.map((v) => (v as number[])[0]));
      expect(batchValues(derived, 'first(au1)')).toEqual(EXPECTED.au1.map((v) => (v as number[])[0]));
    });
  }

  it('convert writes them as another reader (hyparquet) reads them back: int8 lists of 3 for ai1[3]', async () => {
    const out = join(dir, 'sample.parquet');
    // snappy: hyparquet reads no zstd
    await convertRootToParquet([join(CORPUS, SAMPLES[0])], out, { batchRows: 7, codec: 'snappy' });
    const back = await hyparquetColumns(out, Object.keys(EXPECTED));
    for (const [name, values] of Object.entries(EXPECTED)) expect(back[name], name).toEqual(values);
  });

  it('streams them over gRPC with the same values; a tree it cannot read is INVALID_ARGUMENT, named', async () => {
    const root = join(dir, 'served');
    mkdirSync(root);
    copyFileSync(join(CORPUS, SAMPLES[0]), join(root, 'sample.root'));
    copyFileSync(join(CORPUS, 'issue367b.root'), join(root, 'objects.root'));
    const server = await startServer({ dataRoots: [root], ...(await localServerOptions()) });
    try {
      const address = `127.0.0.1:${server.port}`;
      const columns = ['i1', 'ai1', 'Ai1', 'au1'];
      const stream = grpcSource(address, { paths: ['sample.root'], columns }).batches();
      const batches = await lastValueFrom(stream.pipe(toArray()));
      for (const c of columns) expect(batchValues(batches, c), c).toEqual(EXPECTED[c]);
      const refused = await lastValueFrom(grpcSource(address, { paths: ['objects.root'] }).batches()).then(
        () => null,
        (e: { code: number; message: string }) => e,
      );
      expect(refused && status[refused.code]).toBe('INVALID_ARGUMENT');
      expect(refused?.message).toContain(
        "objects.root: tree 'tree' has no branch diffskim can read (numeric branches with one leaf, std::vectors of " +
          "numbers): 'weights': TBranchElement of class map<string,vector<double> >",
      );
      expect(refused?.message).not.toContain(root);
    } finally {
      await server.close(200);
    }
  });
});

describe('ROOT branch names that are not identifiers', () => {
  it("are read by their names ('6dVec', '2x3Mat': a cut variable quotes them, naming no file)", async () => {
    const path = join(CORPUS, 'uproot-issue-74.root');
    const batches = await lastValueFrom(rootSource([path], { tree: 'arrays' }).batches().pipe(toArray()));
    const names = batches[0].schema.map((f) => f.name);
    expect(names).toEqual(['nInt', '6dVec', '2x3Mat']);
    const ref = await referenceRead(path, 'arrays', names);
    for (const c of names) expect(batchValues(batches, c), c).toEqual(ref[c]);
    expect((ref['6dVec'][0] as number[]).length).toBe(6);
    const quantity = (columns: string[]) => rootSource([path], { tree: 'arrays' }).batches({ columns }).pipe(toArray());
    const msg = await failure(lastValueFrom(quantity(['first(6dVec)'])));
    expect(msg).toBe(
      `${path}: tree 'arrays': expected ')', found 'dVec' at 1:8; quote a name that is not an identifier: "a b"`,
    );
    // Quoted, as a cut variable names it, it is read.
    const quoted = await lastValueFrom(quantity(['first("6dVec")']));
    expect(batchValues(quoted, 'first("6dVec")')).toEqual([(ref['6dVec'][0] as number[])[0]]);
  });
});

describe('ROOT branches of std::vector<number>', () => {
  // uproot's tests/test_0038 (test_top_level_vectors) lists this file's one entry.
  const UPROOT: Record<string, number[]> = {
    v_int16: [1, 2, 3],
    v_int32: [1, 2, 3],
    v_int64: [1, 2, 3],
    v_uint16: [1, 2, 3],
    v_uint32: [1, 2, 3],
    v_uint64: [1, 2, 3],
    v_bool: [0, 1],
    v_float: [999, -999],
    v_double: [999, -999],
  };
  const path = join(CORPUS, 'uproot-issue38a.root');

  it('are read as lists of their element type, with count() and first() (they were skipped as objects)', async () => {
    const source = rootSource([path], { tree: 'ntupler/tree' });
    const info = await source.describe();
    expect(info.schema.map((f) => [f.name, f.type, f.list])).toEqual(
      Object.keys(UPROOT).map((n, i) => {
        const types = ['int16', 'int32', 'int64', 'uint16', 'uint32', 'int64', 'bool', 'float32', 'float64'];
        return [n, types[i], true];
      }),
    );
    expect(info.columnValues).toEqual(Object.fromEntries(Object.entries(UPROOT).map(([n, v]) => [n, v.length])));
    const batches = await lastValueFrom(source.batches().pipe(toArray()));
    for (const [n, v] of Object.entries(UPROOT)) expect(batchValues(batches, n), n).toEqual([v]);
    const columns = ['count(v_float)', 'first(v_int64)'];
    const derived = await lastValueFrom(source.batches({ columns }).pipe(toArray()));
    expect([batchValues(derived, 'count(v_float)'), batchValues(derived, 'first(v_int64)')]).toEqual([[2], [1]]);
  });

  it('convert writes them as lists that another reader (hyparquet) reads back', async () => {
    const out = join(dir, 'vectors.parquet');
    await convertRootToParquet([path], out, { tree: 'ntupler/tree', codec: 'snappy' });
    const back = await hyparquetColumns(out, Object.keys(UPROOT));
    for (const [n, v] of Object.entries(UPROOT)) expect(back[n], n).toEqual([v]);
  });
});

describe('ROOT trees in directories', () => {
  it("are found and named by their paths (such a file 'contains no TTree'), and read by them", async () => {
    const path = join(CORPUS, 'uproot-nesteddirs.root');
    const msg = await failure(read(path));
    expect(msg).toBe(
      `${path}: contains several trees (one/two/tree, one/tree, three/tree) and none is named Events; ` +
        'choose one with --tree (source.tree in a pipeline)',
    );
    const batches = await lastValueFrom(rootSource([path], { tree: 'one/two/tree' }).batches().pipe(toArray()));
    const names = batches[0].schema.map((f) => f.name);
    expect(names.length).toBeGreaterThan(10);
    const ref = await referenceRead(path, 'one/two/tree', names);
    for (const c of names) expect(batchValues(batches, c), c).toEqual(ref[c]);
  });
});

describe('ROOT trees diffskim cannot read are refused by name', () => {
  it('a tree of objects only: the CLI names file, tree, each branch and why (was "no columns to read")', async () => {
    const out = join(dir, 'objects.parquet');
    const r = await cli('convert', join(CORPUS, 'issue367b.root'), out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(CORPUS, 'issue367b.root')}: tree 'tree' has no branch diffskim can read`);
    const why = '(objects and STL collections are not supported)';
    expect(r.stderr).toContain(`'weights': TBranchElement of class map<string,vector<double> > ${why}`);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(out)).toBe(false);
  });

  it('a tree of strings only and no entries is refused (it converted, exit 0, to a file without columns)', async () => {
    const out = join(dir, 'strings.parquet');
    const r = await cli('convert', join(CORPUS, 'string-example.root'), out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("tree 'Refs' has no branch diffskim can read");
    expect(r.stderr).toContain("'Databases': a string (TLeafC) branch");
    expect(existsSync(out)).toBe(false);
  });

  it('a tree without branches is refused, named (it converted, exit 0, to a file of no columns)', async () => {
    const out = join(dir, 'nothing.parquet');
    const r = await cli('convert', join(CORPUS, 'uproot-issue261.root'), out);
    expect(r.code).toBe(1);
    const file = join(CORPUS, 'uproot-issue261.root');
    expect(r.stderr).toContain(`${file}: tree 'events' has no branches: there is nothing to read`);
    expect(existsSync(out)).toBe(false);
  });

  it("a tree whose leaves do not decode (groot's file without their streamers) is unreadable, named", async () => {
    // It failed in jsroot's reading with "Cannot read properties of null (reading 'getInt32')",
    // after taking the array ArrF64 for a scalar.
    const path = join(CORPUS, 'uproot-issue413.root');
    const e = await read(path).then(
      () => null,
      (x: Error) => x,
    );
    expect(e?.message).toBe(`${path}: cannot read tree 'mytree': its list of branches did not decode`);
    expect(e instanceof InputError && e.kind).toBe('unreadable');
  });

  it('a leaf-list branch is named as such', async () => {
    const msg = await failure(read(join(CORPUS, 'uproot-leaflist.root')));
    const readable = '(numeric branches with one leaf, std::vectors of numbers)';
    expect(msg).toContain(`tree 'tree' has no branch diffskim can read ${readable}`);
    expect(msg).toContain("'leaflist': 3 leaves in one branch (leaf lists are not supported)");
  });

  it('a ULong64_t value at or above 2^63 names the file, tree, branch and entry', async () => {
    // The uncompressed sample's first basket of u8 holds entries 0, 1, ... as 8-byte big-endian
    // integers after its key; the top bit set on entry 1's makes it 2^63 + 1.
    const path = join(CORPUS, SAMPLES[0]);
    const tree = await openRootTree(path);
    const u8 = tree.branches.get('u8')!.jsroot as unknown as { fBasketSeek: number[] };
    tree.close();
    const bytes = readFileSync(path);
    const at = u8.fBasketSeek[0] + bytes.readUInt16BE(u8.fBasketSeek[0] + 14); // the key's fKeylen
    expect(bytes.readBigUInt64BE(at + 8)).toBe(1n);
    bytes[at + 8] = 0x80;
    const bad = join(dir, 'u8-large.root');
    writeFileSync(bad, bytes);
    const msg = await failure(read(bad, ['i1', 'u8']));
    expect(msg).toBe(
      `${bad}: tree 'sample', branch 'u8', entry 1: value 9223372036854775809 does not fit a signed 64-bit integer ` +
        '(a ULong64_t at or above 2^63); leave the branch out of the columns read',
    );
  });
});
