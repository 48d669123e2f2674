import type { Command } from 'commander';
import { type DatasetInfo, structOf, unreadColumns } from '../../sources/types.js';
import { formatBytes } from '../../util/formatBytes.js';

/** One column as `describe` lists it: what a pipeline can name, and what it costs on disk. */
export interface DescribedColumn {
  name: string;
  /** The batch type: 'float32', or 'list<float32>' for a variable-length list. */
  type: string;
  list: boolean;
  /** Compressed bytes on disk, summed over files (a struct's field: in its struct's bytes, null here). */
  bytes: number | null;
  bytesPerEvent: number | null;
  /** The struct column the field is read out of ('Muon' for 'Muon.pt'), when it is one. */
  structField?: string;
}

export interface Description {
  kind: 'Parquet' | 'ROOT' | 'gRPC';
  inputs: string[];
  rows: number;
  bytesOnDisk: number;
  files: { path: string; rows: number; bytes: number; rowGroups: number }[];
  columns: DescribedColumn[];
  /** Columns (branches) diffskim does not read, with their type or the reason, as the source gives it. */
  unread: { name: string; why: string; bytes: number | null }[];
}

/** The facts a user needs to write a pipeline, from each source's own describe(). */
export function describeDataset(kind: Description['kind'], inputs: string[], info: DatasetInfo): Description {
  const bytesOf = (name: string) => info.columnBytes[name] ?? null;
  const perEvent = (b: number | null) => (b === null || info.rows === 0 ? null : b / info.rows);
  return {
    kind,
    inputs,
    rows: info.rows,
    bytesOnDisk: info.bytesOnDisk,
    files: info.files.map((f) => ({ path: f.path, rows: f.rows, bytes: f.bytes, rowGroups: f.rowGroups })),
    columns: info.schema.map((f) => {
      const struct = structOf(info.unsupported, f.name)?.name;
      const bytes = struct ? null : bytesOf(f.name);
      return {
        name: f.name,
        type: f.list ? `list<${f.type}>` : f.type,
        list: f.list,
        bytes,
        bytesPerEvent: perEvent(bytes),
        ...(struct ? { structField: struct } : {}),
      };
    }),
    unread: unreadColumns(info).map((u) => ({ name: u.name, why: unreadWhy(u.type), bytes: bytesOf(u.name) })),
  };
}

/** A Parquet source gives the type it cannot read (VARCHAR, STRUCT(...)), a ROOT one the reason. */
function unreadWhy(type: string): string {
  return /^[A-Z][A-Z0-9_]*(\(|\[|$)/.test(type)
    ? `type ${type} is not read (only numbers, booleans and lists of them)`
    : type;
}

export async function describeInputs(specs: string[], options: { tree?: string } = {}): Promise<Description> {
  const { openEvalInput } = await import('../../eval/inputs.js');
  const input = await openEvalInput(specs, options);
  return describeDataset(input.kind, input.inputs, await input.source.describe());
}

/** The text form: a table of columns, the unread ones with why, and the rows per file. */
export function formatDescription(d: Description): string {
  const perEvent = (b: number | null) => (b === null ? '' : `${b.toFixed(1)} B`);
  const table = [
    ['column', 'type', 'bytes', 'per event'],
    ...d.columns.map((c) => [
      c.name,
      c.type,
      c.bytes === null ? `(in ${c.structField})` : formatBytes(c.bytes),
      perEvent(c.bytesPerEvent),
    ]),
  ];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  const lines = [
    `${d.kind}: ${d.files.length} file(s), ${d.rows} events, ${formatBytes(d.bytesOnDisk)} on disk` +
      (d.rows > 0 ? ` (${(d.bytesOnDisk / d.rows).toFixed(1)} B per event)` : ''),
    '',
    ...table.map((r) =>
      r
        .map((v, i) => (i >= 2 ? v.padStart(widths[i]) : v.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    ),
  ];
  if (d.unread.length) {
    lines.push('', 'not read (cannot be a feature, cut, label or weight):');
    for (const u of d.unread)
      lines.push(`  ${u.name}: ${u.why}${u.bytes === null ? '' : ` (${formatBytes(u.bytes)})`}`);
  }
  lines.push('', 'files:');
  for (const f of d.files) lines.push(`  ${f.path}: ${f.rows} events, ${formatBytes(f.bytes)}`);
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('describe')
    .description(
      'list the columns (branches) of a dataset with their types, rows and bytes on disk, to write a pipeline',
    )
    .argument(
      '<input...>',
      'Parquet files, folders or globs; ROOT files; or grpc://host:port/path (token: $DIFFSKIM_TOKEN)',
    )
    .option('--tree <name>', 'ROOT tree to read, dir/tree for one in a directory (default: the only tree, else Events)')
    .option('--json', 'print the description as JSON')
    .action(async (inputs: string[], o: { tree?: string; json?: boolean }) => {
      const d = await describeInputs(inputs, { tree: o.tree });
      process.stdout.write(o.json ? `${JSON.stringify(d, null, 2)}\n` : formatDescription(d));
    });
}
