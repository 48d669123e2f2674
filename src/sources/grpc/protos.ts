import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { BatchChunkMsg, SchemaMsg } from './messages.js';
import { deserializeBatchChunk, serializeBatchChunk } from './wire.js';

/** proto/ at the repository root. */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

/** 64 MiB: the largest message either side accepts; the server splits batches to stay below. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const LOAD_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

interface Loaded {
  DiffSkim: grpc.ServiceClientConstructor;
  Health: grpc.ServiceClientConstructor;
  /** BatchChunk through protobufjs alone (what any other protobuf library reads and writes). */
  protobufBatchChunk: { serialize: (m: BatchChunkMsg) => Buffer; deserialize: (b: Buffer) => BatchChunkMsg };
}

let loaded: Loaded | undefined;

/** The service definitions (client constructors; `.service` is the server definition). */
export function services(): Loaded {
  if (!loaded) {
    const def = protoLoader.loadSync(['diffskim/v1/diffskim.proto', 'grpc/health/v1/health.proto'], LOAD_OPTIONS);
    const protobufBatchChunk = useWireCodec(def['diffskim.v1.DiffSkim'] as grpc.ServiceDefinition);
    const pkg = grpc.loadPackageDefinition(def) as unknown as {
      diffskim: { v1: { DiffSkim: grpc.ServiceClientConstructor } };
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    loaded = { DiffSkim: pkg.diffskim.v1.DiffSkim, Health: pkg.grpc.health.v1.Health, protobufBatchChunk };
  }
  return loaded;
}

/**
 * BatchChunk messages, the bulk of the traffic, go through src/sources/grpc/wire.ts (same bytes on the
 * wire, fewer copies). Returns the protobufjs functions it replaces.
 */
function useWireCodec(service: grpc.ServiceDefinition): Loaded['protobufBatchChunk'] {
  const stream = service.StreamBatches as grpc.MethodDefinition<unknown, BatchChunkMsg>;
  const evaluate = service.Evaluate as grpc.MethodDefinition<BatchChunkMsg, unknown>;
  const plain = { serialize: stream.responseSerialize, deserialize: stream.responseDeserialize };
  const encodeSchemaOnly = (m: { schema: SchemaMsg }) => plain.serialize(m);
  const serialize = (m: BatchChunkMsg) => serializeBatchChunk(m, encodeSchemaOnly);
  const deserialize = (b: Buffer) => deserializeBatchChunk(b, plain.deserialize);
  // grpc-js copies a server's reply into its frame as soon as it is serialised, so replies are
  // written into one reused buffer. (A client's requests may be kept for retries: not those.)
  let scratch = Buffer.alloc(0);
  const reuse = (bytes: number) => (scratch.byteLength >= bytes ? scratch : (scratch = Buffer.allocUnsafe(bytes)));
  Object.assign(stream, {
    responseSerialize: (m: BatchChunkMsg) => serializeBatchChunk(m, encodeSchemaOnly, reuse),
    responseDeserialize: deserialize,
  });
  Object.assign(evaluate, { requestSerialize: serialize, requestDeserialize: deserialize });
  return plain;
}

/** Channel options shared by client and server: explicit message limits and keepalive. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  // Let clients ping every 30 s without being told off (GOAWAY too_many_pings).
  'grpc.http2.min_ping_interval_without_data_ms': 20_000,
};

/**
 * Default HTTP/2 receive window of a client: how many bytes a server may send ahead of what
 * the client has read. Node's default (64 KiB) makes every multi-MB batch wait for many window
 * updates (measured: about half the throughput); 8 MiB keeps the stream busy and still bounds
 * what is in flight.
 */
export const CLIENT_WINDOW_BYTES = 8 * 1024 * 1024;
