/** Events per batch read from ROOT files (and per row group of `convert`), by default. */
export const DEFAULT_ROOT_BATCH_ROWS = 32768;
