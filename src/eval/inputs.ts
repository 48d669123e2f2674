import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { grpcSource } from '../sources/grpc/grpcSource.js';
import { expandInputs } from '../sources/expandInputs.js';
import { parquetSource } from '../sources/parquet.js';
import { rootSource } from '../sources/rootSource.js';
import type { EventSource } from '../sources/types.js';

export interface EvalInput {
  kind: 'gRPC' | 'ROOT' | 'Parquet';
  source: EventSource;
  /** Local files, or the grpc:// specs as given. */
  inputs: string[];
}

/**
 * Input specs to one event source. All specs must be of one kind:
 *   grpc://host:port/path (grpcs:// for TLS)  a dataset served by `diffskim serve` (token: $DIFFSKIM_TOKEN)
 *   *.root (files or globs)                    ROOT files, tree `tree` (default: the only tree)
 *   anything else                              Parquet files, directories, globs or @list.txt
 */
export async function openEvalInput(specs: string[], options: { tree?: string } = {}): Promise<EvalInput> {
  if (specs.length === 0) throw new Error('no input given');
  const kinds = new Set(specs.map(kindOf));
  kinds.delete('directory');
  for (const dir of specs.filter((s) => kindOf(s) === 'directory')) kinds.add(directoryKind(dir));
  if (kinds.size > 1)
    throw new Error(`inputs mix ${[...kinds].join(' and ')} specs (${specs.join(', ')}); evaluate one kind at a time`);
  const kind = kinds.values().next().value;
  if (kind === 'gRPC') {
    const urls = specs.map(parseGrpcUrl);
    const address = urls[0].address;
    if (urls.some((u) => u.address !== address || u.tls !== urls[0].tls))
      throw new Error(`gRPC inputs name different servers (${specs.join(', ')}); use one`);
    const source = grpcSource(address, {
      paths: urls.map((u) => u.path),
      token: process.env.DIFFSKIM_TOKEN,
      tls: urls[0].tls ? {} : undefined,
    });
    return { kind, source, inputs: specs };
  }
  if (kind === 'ROOT') {
    const files = (await expandInputs(specs, process.cwd(), 'root')).map((f) => f.path);
    return { kind, source: rootSource(files, { tree: options.tree }), inputs: files };
  }
  const files = (await expandInputs(specs)).map((f) => f.path);
  return { kind: 'Parquet', source: parquetSource(files), inputs: files };
}

function kindOf(spec: string): 'gRPC' | 'ROOT' | 'Parquet' | 'directory' {
  if (/^grpcs?:\/\//i.test(spec)) return 'gRPC';
  if (/\.root$/i.test(spec)) return 'ROOT';
  return statSync(spec, { throwIfNoEntry: false })?.isDirectory() ? 'directory' : 'Parquet';
}

/** A directory holds ROOT files or Parquet files (below it, at any depth), not both. */
function directoryKind(dir: string): 'ROOT' | 'Parquet' {
  const names = readdirSync(dir, { recursive: true }).map(String);
  const root = names.some((n) => /\.root$/i.test(n));
  const parquet = names.some((n) => /\.parquet$/i.test(n));
  if (root && parquet) throw new Error(`${dir} holds both ROOT and Parquet files; name the files of one kind`);
  return root ? 'ROOT' : 'Parquet';
}

function parseGrpcUrl(spec: string): { address: string; path: string; tls: boolean } {
  const m = /^(grpcs?):\/\/([^/]+)\/(.+)$/i.exec(spec);
  if (!m) throw new Error(`cannot read gRPC input '${spec}': expected grpc://host:port/path/on/server`);
  return { tls: m[1].toLowerCase() === 'grpcs', address: m[2], path: m[3] };
}

/**
 * A model folder (with model.json) or a run folder (with model/model.json), and the cuts.json
 * that goes with it: the one in the folder given, else the one next to the model folder.
 */
export function locateModel(dir: string): { modelDir: string; cutsFile: string | null } {
  const given = resolve(dir);
  const modelDir = existsSync(join(given, 'model.json')) ? given : join(given, 'model');
  if (!existsSync(join(modelDir, 'model.json')))
    throw new Error(
      `${given}: no model.json here or in ${join(given, 'model')} (give a run folder or its model/ folder)`,
    );
  const cutsFile = [join(given, 'cuts.json'), join(dirname(modelDir), 'cuts.json')].find((p) => existsSync(p)) ?? null;
  return { modelDir, cutsFile };
}
