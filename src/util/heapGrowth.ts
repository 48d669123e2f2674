import { setFlagsFromString } from 'node:v8';

/**
 * A gRPC stream pushes GBs of typed arrays through a small V8 heap. With V8's default heap
 * growth, the old generation's limit stays so close to what survives a collection that
 * incremental marking restarts every few tens of milliseconds once the heap has settled:
 * --trace-gc counts ~20 full collections per 2 M-event stream received where 1 does, and a
 * server's streams slowed pass after pass (scripts/bench-grpc.ts: 1.2 s to 2.1 s over five).
 * Letting the old generation grow to 4x what survives (a few tens of MB here) keeps its limit
 * clear; V8 reads the flag at every collection. The server and the gRPC source set it. Local
 * reads keep V8's default: there the same flag let a 20 M-event streaming skim's peak RSS
 * reach 1.22x the 2 M one (scripts/bench-skim.ts), against a target of 1.10.
 */
export function useStreamingHeapGrowth(): void {
  setFlagsFromString('--heap-growing-percent=300');
}
