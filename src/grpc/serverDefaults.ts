/**
 * Streams (StreamBatches, Evaluate) served at once by default (ServerOptions.maxStreams). A stream
 * whose client does not read holds up to ~100 MB (its read-ahead, batches, messages waiting):
 * scripts/bench-grpc-streams.ts measures it.
 */
export const DEFAULT_MAX_STREAMS = 8;
