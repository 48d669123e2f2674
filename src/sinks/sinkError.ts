/** A failure the sink reports itself, its message already naming the file written (not wrapped again). */
export class SinkError extends Error {
  override name = 'SinkError';
}
