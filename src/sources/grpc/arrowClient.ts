import type * as grpc from '@grpc/grpc-js';
import type { HardCut } from '../../selection/cutsFile.js';
import { callError, type ConnectOptions, connect } from './client.js';
import { encodeCut } from './codec.js';
import type { BatchChunkMsg } from './messages.js';

export interface ArrowStreamRequest {
  paths: string[];
  columns?: string[];
  where?: HardCut[];
  batchRows?: number;
}

/**
 * StreamBatches with encoding ARROW_IPC: the bytes of one Arrow IPC stream, piece by piece, as
 * they arrive, for any Arrow reader (apache-arrow: `RecordBatchReader.from(arrowIpcStream(...))`).
 * Leaving the iteration early cancels the call; a failed call throws with its status code.
 */
export async function* arrowIpcStream(
  address: string,
  request: ArrowStreamRequest,
  options: ConnectOptions = {},
): AsyncGenerator<Uint8Array> {
  const { client, metadata } = connect(address, options);
  const call = client.streamBatches(
    {
      paths: request.paths,
      columns: request.columns ?? [],
      where: (request.where ?? []).map(encodeCut),
      batchRows: request.batchRows ?? 0,
      encoding: 'ARROW_IPC',
    },
    metadata(),
  ) as grpc.ClientReadableStream<BatchChunkMsg>;
  try {
    for await (const msg of call as AsyncIterable<BatchChunkMsg>) if (msg.arrowIpc?.byteLength) yield msg.arrowIpc;
  } catch (e) {
    throw 'code' in (e as object) ? callError(address, 'StreamBatches', e as grpc.ServiceError) : e;
  } finally {
    call.cancel();
    client.close();
  }
}
