import { setFlagsFromString } from 'node:v8';

/**
 * diffskim streams GBs of typed arrays through a small V8 heap. With V8's default heap growth,
 * the old generation's limit stays so close to what survives a collection that incremental
 * marking restarts every few tens of milliseconds once the heap has settled: measured, 30-40
 * full collections per 2 M-event Parquet read and ~20 per gRPC stream received, where 1 does
 * (scripts/bench-grpc.ts shows the time). Letting the old generation grow to 4x what survives
 * (a few tens of MB here) keeps its limit clear. V8 reads the flag at every collection, so
 * setting it at startup is enough. The CLI and the benchmarks that stand for it call this.
 */
export function useStreamingHeapGrowth(): void {
  setFlagsFromString('--heap-growing-percent=300');
}
