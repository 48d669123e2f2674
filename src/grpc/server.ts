import * as grpc from '@grpc/grpc-js';
import type { CutsFile } from '../selection/cutsFile.js';
import type { EventSource } from '../sources/types.js';
import { bearerTokenInterceptor } from './auth.js';
import { encodeSchema } from '../sources/grpc/codec.js';
import { decodeCut } from './cuts.js';
import { DataRoots } from './dataRoots.js';
import { failedPrecondition, invalidArgument, resourceExhausted, RpcError, toServiceError } from './errors.js';
import { evaluate, type Scorer } from './evaluate.js';
import { HealthService } from './health.js';
import { DEFAULT_MAX_STREAMS } from './serverDefaults.js';
import { CHANNEL_OPTIONS, services } from '../sources/grpc/protos.js';
import type { DatasetInfoMsg, DescribeRequestMsg, SkimReportMsg, SkimRequestMsg } from '../sources/grpc/messages.js';
import { streamBatches, type StreamStats } from './streamBatches.js';
import { parseCodec } from '../sinks/parquetSink.js';
import { removeStaleTempFiles } from '../util/tempFiles.js';
import type { SkimFigures, SkimResult } from '../skim/runSkim.js';
import type { SkimSpec } from '../skim/spec.js';
import { skimOutputPaths } from '../skim/outputPaths.js';
import { skimInputs } from '../sources/expandInputs.js';

/** A skim as the server asks for it (src/skim/spec.ts), the score cut by the loaded model's classifier. */
export interface SkimJob extends Omit<SkimSpec, 'score' | 'footers'> {
  /** Keep only events whose score from the loaded model is above the threshold. */
  score?: { threshold: number };
}

/** What a skim reports back over RPC: the figures of src/skim/runSkim.ts's SkimResult. */
export type SkimOutcome = SkimFigures & Pick<SkimResult, 'files' | 'seconds'>;

export interface ServerOptions {
  /** Directories clients may read (and write skims into). */
  dataRoots: string[];
  /** A source over files already checked to lie inside the data roots. */
  openSource: (files: string[]) => EventSource;
  runSkim?: (job: SkimJob) => Promise<SkimOutcome>;
  /** The loaded model, for Evaluate and score cuts. */
  scorer?: Scorer;
  /** When set, every call needs `authorization: Bearer <token>`. */
  token?: string;
  tls?: { cert: Buffer; key: Buffer };
  /** Messages waiting in grpc-js per stream (default 2). */
  maxInFlight?: number;
  /** A stream's messages stay at or below this many bytes: larger batches go out in pieces (default 4 MiB). */
  maxMessageBytes?: number;
  /**
   * Events per batch when the client does not say, at most (default 65536; fewer where a
   * message would exceed maxMessageBytes).
   */
  defaultBatchRows?: number;
  /** MB each stream's source may decode ahead (ReadOptions.readAheadMB; 0: DuckDB's ~1 MB; default 64). */
  readAheadMB?: number;
  /** StreamBatches and Evaluate calls served at once, at most (default 8); one more is RESOURCE_EXHAUSTED. */
  maxStreams?: number;
}

export interface RunningServer {
  port: number;
  stats: StreamStats;
  health: HealthService;
  /** Stops accepting calls, waits up to `graceMs` for running ones, then cuts them. */
  close(graceMs?: number): Promise<void>;
}

const SERVICE_NAME = 'diffskim.v1.DiffSkim';

/**
 * 4 MiB: the receive limit every gRPC client has by default (grpcio, grpc-go, grpc-java), which
 * a stream's messages stay within.
 */
const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/**
 * MB each stream's Parquet reader decodes ahead by default (ServerOptions.readAheadMB), so that
 * DuckDB's threads keep decoding while the stream's messages go out. scripts/bench-grpc.ts: on
 * 2 cores the stream runs at 0.84-0.99 of the local read rate with it, 0.70-0.73 without; on 16
 * cores at 0.92-0.95, against 0.76-0.77 before. It costs up to that much memory per stream.
 */
export const DEFAULT_READ_AHEAD_MB = 64;

/** Starts the diffskim and health services on `address` (port 0 picks a free port). */
export async function startServer(options: ServerOptions, address = '127.0.0.1:0'): Promise<RunningServer> {
  const roots = await DataRoots.open(options.dataRoots);
  const settings = {
    roots,
    openSource: options.openSource,
    maxInFlight: options.maxInFlight ?? 2,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    defaultBatchRows: options.defaultBatchRows ?? 65536,
    readAheadMB: options.readAheadMB ?? DEFAULT_READ_AHEAD_MB,
  };
  const stats: StreamStats = { active: 0, started: 0, maxQueued: 0, maxInFlight: 0 };
  const health = new HealthService([SERVICE_NAME]);

  // A unary call's handler gets a signal that aborts when the client cancels or its deadline
  // passes, or when the server is closed and the call outlasts the grace period.
  const running = new Set<AbortController>();
  const unary =
    <Req, Res>(fn: (req: Req, signal: AbortSignal) => Promise<Res>) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
      const cancelled = new AbortController();
      running.add(cancelled);
      call.on('cancelled', () =>
        cancelled.abort(new RpcError(grpc.status.CANCELLED, 'the call was cancelled or its deadline passed')),
      );
      fn(call.request, cancelled.signal)
        .then(
          (res) => callback(null, res),
          (e) => callback(toServiceError(e, roots)),
        )
        .finally(() => running.delete(cancelled));
    };

  const describe = async (req: DescribeRequestMsg, signal: AbortSignal): Promise<DatasetInfoMsg> => {
    const files = await roots.resolveInputs(req.paths, undefined, signal);
    const info = await options.openSource(files).describe();
    return {
      files: info.files.map((f) => ({ ...f, path: roots.display(f.path) })),
      schema: encodeSchema(info.schema),
      rows: info.rows,
      bytesOnDisk: info.bytesOnDisk,
      columnBytes: info.columnBytes,
      columnValues: info.columnValues,
      unsupported: info.unsupported ?? [],
    };
  };

  const runSkim = async (req: SkimRequestMsg, signal: AbortSignal): Promise<SkimReportMsg> => {
    if (!options.runSkim) throw new RpcError(grpc.status.UNIMPLEMENTED, 'this server cannot run skims');
    if (!req.outputDir) throw invalidArgument('output_dir is required');
    if (req.scoreCut && !Number.isFinite(req.scoreThreshold))
      throw invalidArgument(`score_threshold must be a finite number, got ${req.scoreThreshold}`);
    try {
      if (req.codec) parseCodec(req.codec);
    } catch (e) {
      throw invalidArgument((e as Error).message);
    }
    const cuts: CutsFile = {
      cuts: req.cuts.map(decodeCut),
      score: req.scoreCut ? { op: '>', value: req.scoreThreshold } : null,
    };
    if (req.scoreCut && !options.scorer)
      throw failedPrecondition('a score cut needs a model, and the server has none loaded (start it with --model DIR)');
    const outDir = await roots.resolveOutputDir(req.outputDir);
    // Without the skim files of an earlier run into an output folder inside an input folder.
    const found = await roots.resolveFound(req.inputs, undefined, signal).then((files) => {
      try {
        return skimInputs(files, outDir);
      } catch (e) {
        throw invalidArgument((e as Error).message);
      }
    });
    const inputs = found.map((f) => f.path);
    const outputs = skimOutputPaths(found);
    await removeStaleTempFiles(outDir); // left by a skim of a server that was killed
    // The skim checks its columns (src/skim/skimColumns.ts) before it writes anything.
    const result = await options.runSkim({
      inputs,
      outputs,
      cuts,
      outDir,
      keep: req.keep.length ? req.keep : undefined,
      codec: req.codec || undefined,
      score: req.scoreCut ? { threshold: req.scoreThreshold } : undefined,
      signal,
    });
    // Every path in the answer, the full report included, relative to the data roots.
    const show = (p: string) => roots.display(p);
    const files = result.files.map((f) => ({ ...f, input: show(f.input), output: show(f.output) }));
    const shown = { ...result, inputs: result.inputs.map(show), skimFiles: result.skimFiles.map(show), files };
    return { ...shown, reportJson: JSON.stringify(shown) };
  };

  // A stream call past the limit is refused at once, before it reads anything.
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
  let streams = 0;
  const limited =
    <Call extends NodeJS.EventEmitter>(fn: (call: Call) => Promise<void>) =>
    (call: Call) => {
      if (streams >= maxStreams) {
        const why =
          `the server is serving its maximum of ${maxStreams} streams (StreamBatches, Evaluate) at once; ` +
          'retry when one ends';
        call.emit('error', toServiceError(resourceExhausted(why)));
        return;
      }
      streams++;
      void fn(call).finally(() => streams--);
    };

  const server = new grpc.Server({
    ...CHANNEL_OPTIONS,
    interceptors: options.token ? [bearerTokenInterceptor(options.token)] : [],
  });
  const { DiffSkim, Health } = services();
  server.addService(DiffSkim.service, {
    describe: unary(describe),
    streamBatches: limited((call: Parameters<typeof streamBatches>[2]) => streamBatches(settings, stats, call)),
    runSkim: unary(runSkim),
    evaluate: limited((call: Parameters<typeof evaluate>[2]) => evaluate(options.scorer, settings.maxInFlight, call)),
  });
  server.addService(Health.service, health.handlers);

  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: options.tls.cert, private_key: options.tls.key }], false)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, credentials, (e, p) =>
      e ? reject(new Error(`cannot listen on ${address}: ${e.message}`)) : resolve(p),
    ),
  );

  return {
    port,
    stats,
    health,
    async close(graceMs = 2000) {
      health.setAll('NOT_SERVING');
      health.endWatches();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          // Skims still running stop and remove the file they were writing.
          for (const c of running) c.abort(new RpcError(grpc.status.UNAVAILABLE, 'the server is shutting down'));
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
