/** Plain-object shapes of the messages, as proto-loader decodes them (camelCase, enums as names). */

export type WireDType =
  'BOOL' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'UINT8' | 'UINT16' | 'UINT32' | 'FLOAT32' | 'FLOAT64';

export interface FieldMsg {
  name: string;
  type: WireDType;
  list: boolean;
  nullable: boolean;
}

export interface SchemaMsg {
  fields: FieldMsg[];
}

export interface ColumnBuffersMsg {
  values: Uint8Array;
  offsets: Uint8Array;
  validity: Uint8Array;
}

export interface OriginMsg {
  file: string;
  rowGroup: number;
  firstRow: number;
}

export interface BatchMsg {
  length: number;
  columns: ColumnBuffersMsg[];
  origin?: OriginMsg | null;
}

export interface BatchChunkMsg {
  schema?: SchemaMsg | null;
  batch?: BatchMsg | null;
  /** A piece of an Arrow IPC stream (StreamRequest encoding ARROW_IPC). */
  arrowIpc?: Uint8Array;
  /** The last message of a stream of batches: the events the server sent. */
  end?: { events: number } | null;
}

export interface HardCutMsg {
  column: string;
  op: 'GREATER' | 'LESS' | 'BETWEEN' | 'PASSES' | 'GREATER_EQUAL' | 'LESS_EQUAL' | 'EQUAL' | 'OP_UNSPECIFIED';
  value?: number;
  low?: number;
  high?: number;
}

export interface DescribeRequestMsg {
  paths: string[];
}

export interface DatasetInfoMsg {
  files: { path: string; bytes: number; rows: number; rowGroups: number }[];
  schema: SchemaMsg;
  rows: number;
  bytesOnDisk: number;
  columnBytes: Record<string, number>;
  columnValues: Record<string, number>;
  unsupported: { name: string; type: string }[];
}

export interface StreamRequestMsg {
  paths: string[];
  columns: string[];
  where: HardCutMsg[];
  batchRows: number;
  /** Absent or ENCODING_UNSPECIFIED: schema and batch; ARROW_IPC: arrowIpc. */
  encoding?: 'ENCODING_UNSPECIFIED' | 'ARROW_IPC';
}

export interface SkimRequestMsg {
  inputs: string[];
  cuts: HardCutMsg[];
  outputDir: string;
  keep: string[];
  codec: string;
  scoreCut: boolean;
  scoreThreshold: number;
}

export interface SkimReportMsg {
  inputs: string[];
  skimFiles: string[];
  eventsIn: number;
  eventsKept: number;
  eventsCut: number;
  bytesIn: number;
  bytesOut: number;
  bytesSaved: number;
  seconds: number;
  reportJson: string;
}

export interface ScoresMsg {
  batchIndex: number;
  length: number;
  scores: Uint8Array;
}
