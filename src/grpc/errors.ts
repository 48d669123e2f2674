import { type ServiceError, status, Metadata } from '@grpc/grpc-js';
import { ExprError } from '../selection/expr/index.js';
import { ColumnError, InputError } from '../sources/inputError.js';
import { ClaimedError } from '../skim/claims.js';
import { OtherSettingsError } from '../skim/shard/manifest.js';

/** An error that carries the gRPC status code it should be reported with. */
export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

export const invalidArgument = (message: string) => new RpcError(status.INVALID_ARGUMENT, message);
export const notFound = (message: string) => new RpcError(status.NOT_FOUND, message);
export const permissionDenied = (message: string) => new RpcError(status.PERMISSION_DENIED, message);
export const resourceExhausted = (message: string) => new RpcError(status.RESOURCE_EXHAUSTED, message);
export const failedPrecondition = (message: string) => new RpcError(status.FAILED_PRECONDITION, message);

/** An input file unreadable, of another schema, or changed while it was read (a retry may succeed). */
const INPUT_ERROR_STATUS: Record<InputError['kind'], status> = {
  unreadable: status.DATA_LOSS,
  incompatible: status.INVALID_ARGUMENT,
  changed: status.ABORTED,
};

/** The status code and message to send for any error thrown while serving a call. */
export function toStatus(err: unknown): { code: status; details: string } {
  if (err instanceof RpcError) return { code: err.code, details: err.message };
  if (err instanceof ClaimedError) return { code: status.ABORTED, details: err.message };
  if (err instanceof OtherSettingsError) return { code: status.FAILED_PRECONDITION, details: err.message };
  if (err instanceof ColumnError || err instanceof ExprError)
    return { code: status.INVALID_ARGUMENT, details: err.message };
  if (err instanceof InputError) return { code: INPUT_ERROR_STATUS[err.kind], details: err.message };
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return { code: status.NOT_FOUND, details: e.message };
  if (e?.code === 'EACCES') return { code: status.PERMISSION_DENIED, details: e.message };
  return { code: status.INTERNAL, details: e?.message ?? String(err) };
}

/**
 * Characters of a status message sent, at most: it travels in an HTTP/2 trailer, and one that
 * quotes a huge request (an unknown column of 150,000 characters) exceeds what clients accept
 * (grpc-js drops the connection: UNAVAILABLE after 40 s, the status lost; grpcio's default is 8 KiB).
 */
const MAX_DETAILS = 2000;

/** A message within MAX_DETAILS: its start (what went wrong) and end, the middle left out. */
function clip(details: string): string {
  if (details.length <= MAX_DETAILS) return details;
  const [head, tail] = [1500, 400];
  return `${details.slice(0, head)} … (${details.length - head - tail} characters left out) … ${details.slice(-tail)}`;
}

/**
 * An error object grpc-js turns into that status (for callbacks and stream 'error' events);
 * `roots` shows the server's paths in the message relative to its data roots.
 */
export function toServiceError(err: unknown, roots?: { scrub(message: string): string }): ServiceError {
  const { code, details: raw } = toStatus(err);
  const details = clip(roots ? roots.scrub(raw) : raw);
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}
