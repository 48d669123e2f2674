/**
 * diffskim's own error about an input file, its message naming the file (and where in it): a
 * reader passes it on as it is, where it explains an error of DuckDB's and names the file.
 */
export class FileError extends Error {}

/**
 * A column named (to keep, cut on, score or read) that the file lacks, or whose type cannot serve
 * there, named in the message with the file: the caller's mistake (the gRPC server's INVALID_ARGUMENT).
 */
export class ColumnError extends FileError {}

/**
 * A problem with the input files themselves, named in the message: 'unreadable' (empty,
 * truncated, corrupt, not Parquet), 'incompatible' (files that cannot be read together, or
 * skimmed to the same output) or 'changed' (rewritten, replaced or removed since its footer was
 * read). The gRPC server reports them as the client's, not its own.
 */
export class InputError extends FileError {
  constructor(
    readonly kind: 'unreadable' | 'incompatible' | 'changed',
    message: string,
  ) {
    super(message);
  }
}
