import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { grpcSource } from '../sources/grpc/grpcSource.js';
import type { SourceConfig } from './config.js';
import { expandInputs, type FoundInput } from '../sources/expandInputs.js';
import { parquetSource } from '../sources/parquet.js';
import type { ParquetFileMeta } from '../sources/parquetMeta.js';
import { rootSource } from '../sources/rootSource.js';
import type { EventSource } from '../sources/types.js';

export interface OpenedSource {
  source: EventSource;
  /** Input files: local paths, or grpc://address/path for a remote source. */
  files: string[];
  /** Local input files with the roots they were found under (none for a remote source). */
  found: FoundInput[];
  kind: SourceConfig['kind'];
  /** A Parquet source's footers, read once (ParquetSource.files()) for every stage. */
  footers?: () => Promise<ParquetFileMeta[]>;
}

/** The event source a pipeline file names; local paths are relative to the pipeline file's folder. */
export async function openSource(config: SourceConfig, baseDir: string): Promise<OpenedSource> {
  const local = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  switch (config.kind) {
    case 'parquet': {
      const found = await expandInputs(config.paths.map(local));
      const files = found.map((f) => f.path);
      const source = parquetSource(files);
      return { source, files, found, kind: config.kind, footers: source.files };
    }
    case 'root': {
      const found = await expandInputs(config.paths.map(local), baseDir, 'root');
      const files = found.map((f) => f.path);
      const source = rootSource(files, { tree: config.tree, branches: config.branches });
      return { source, files, found, kind: config.kind };
    }
    case 'grpc': {
      const ca = config.tls?.ca ? await readFile(local(config.tls.ca)) : undefined;
      const source = grpcSource(config.address, {
        paths: config.paths,
        token: config.token ?? process.env.DIFFSKIM_TOKEN,
        tls: config.tls ? { ca } : undefined,
      });
      // As `eval` names them: the server's files, as grpc(s)://address/path.
      const files = config.paths.map((p) => `${config.tls ? 'grpcs' : 'grpc'}://${config.address}/${p}`);
      return { source, files, found: [], kind: config.kind };
    }
  }
}
