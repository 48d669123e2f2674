import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSource } from '../../src/samples/openSource.js';
import { HZZ } from '../root/reference.js';

const dir = mkdtempSync(join(tmpdir(), 'diffskim-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a pipeline's source names its inputs, as report.json lists them", () => {
  it('a folder of ROOT files: the files in it', async () => {
    mkdirSync(join(dir, 'roots'));
    copyFileSync(HZZ, join(dir, 'roots', 'b.root'));
    copyFileSync(HZZ, join(dir, 'roots', 'a.root'));
    const opened = await openSource({ kind: 'root', paths: ['roots'], tree: 'events' }, dir);
    expect(opened.files).toEqual([join(dir, 'roots', 'a.root'), join(dir, 'roots', 'b.root')]);
  });

  it("a gRPC source: the server's paths as grpc:// (grpcs:// with TLS) addresses", async () => {
    const plain = await openSource({ kind: 'grpc', address: 'host:50051', paths: ['mc/a.parquet', 'mc'] }, dir);
    expect(plain.files).toEqual(['grpc://host:50051/mc/a.parquet', 'grpc://host:50051/mc']);
    const tls = await openSource({ kind: 'grpc', address: 'host:443', paths: ['x.parquet'], tls: {} }, dir);
    expect(tls.files).toEqual(['grpcs://host:443/x.parquet']);
  });
});
