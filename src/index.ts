/**
 * diffskim's public TypeScript API, the package's entry point (`import { runSkim } from 'diffskim'`):
 * a plain list of re-exports, documented with an example each in docs/api.md.
 */

// Event sources and the batches they stream.
export type { Column, EventBatch, FlatColumn, ListColumn } from './batch/batch.js';
export type { DType, Field, Schema, TypedArray } from './batch/schema.js';
export type { ColumnType, DatasetInfo, EventSource, FileInfo, ReadOptions } from './sources/types.js';
export { parquetSource, type ParquetSource } from './sources/parquet.js';
export { rootSource, type RootSourceOptions } from './sources/rootSource.js';
export { grpcSource, type GrpcSourceOptions } from './sources/grpc/grpcSource.js';

// A whole run, as `diffskim run` does it.
export { runPipeline, type RunOptions, type RunReport } from './pipeline/runPipeline.js';

// Cuts and the skim.
export { readCutsFile, type CutsFile, type HardCut } from './selection/cutsFile.js';
export { runSkim, type SkimFileResult, type SkimOptions, type SkimResult } from './skim/runSkim.js';
export type { SkimSpec } from './skim/spec.js';
export type { ScoreCut } from './operators/hardCut.js';
export { convertRootToParquet, type ConvertOptions, type ConvertResult } from './pipeline/convertRoot.js';

// Saved models and their evaluation.
export { loadModel, saveModel } from './model/io.js';
export type { ModelKind, SelectionModel } from './model/model.js';
export { mlpScore, modelScore } from './model/score.js';
export { evaluateModel, type EvaluateOptions, type Evaluation } from './eval/evaluate.js';
export { type ReportPage, writeHtmlReport } from './report/html.js';
export { type EvalProvenance } from './report/types.js';
export { writeEvaluation } from './report/writeEvaluation.js';

// The gRPC service: its clients, and the server `diffskim serve` runs.
export { type ConnectOptions, unaryCall } from './sources/grpc/client.js';
export { evaluateRemote } from './sources/grpc/evaluateClient.js';
export { type ArrowStreamRequest, arrowIpcStream } from './sources/grpc/arrowClient.js';
export { type RunningServer, type ServerOptions, startServer } from './grpc/server.js';
export { localServerOptions } from './grpc/localBackends.js';

// Error kinds, to tell failures apart by class (instanceof) rather than by message.
export { ColumnError, InputError } from './sources/inputError.js';
export { CutsFileError } from './selection/cutsFile.js';
export { NullListElementError } from './sources/parquetChunks.js';
export { ClaimedError } from './skim/claims.js';
export { IncompleteRunError } from './skim/shard/merge.js';
export { RpcError } from './grpc/errors.js';
export { Interrupted } from './util/stopSignal.js';
