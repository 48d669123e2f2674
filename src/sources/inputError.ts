/**
 * A problem with the input files themselves, named in the message: 'unreadable' (empty,
 * truncated, corrupt, not Parquet) or 'incompatible' (files that cannot be read together, or
 * skimmed to the same output). The gRPC server reports them as the client's, not its own.
 */
export class InputError extends Error {
  constructor(
    readonly kind: 'unreadable' | 'incompatible',
    message: string,
  ) {
    super(message);
  }
}
