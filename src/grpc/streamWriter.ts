import type { Writable } from 'node:stream';

/**
 * Writes messages to a gRPC server stream without letting them pile up: at most `maxInFlight`
 * messages handed to grpc-js and not yet flushed to HTTP/2, and never past a `false` from
 * write() before 'drain'. A slow client therefore stops the writer, and so the reading.
 */
export class BoundedWriter {
  private inFlight = 0;
  private wake?: () => void;
  /** Most messages ever waiting in grpc-js at once. */
  maxInFlight = 0;

  constructor(
    private readonly stream: Writable,
    private readonly limit: number,
  ) {
    stream.on('drain', () => this.notify());
    stream.on('close', () => this.notify());
    stream.on('cancelled', () => this.notify());
  }

  private notify(): void {
    this.wake?.();
    this.wake = undefined;
  }

  /** Resolves when there is room for another message; false when the stream is gone. */
  async write(message: unknown): Promise<boolean> {
    if (this.gone()) return false;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let ok = this.stream.write(message, () => {
      this.inFlight--;
      this.notify();
    });
    while (!this.gone() && (!ok || this.inFlight >= this.limit)) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      ok = !this.stream.writableNeedDrain;
    }
    return !this.gone();
  }

  gone(): boolean {
    return this.stream.destroyed || this.stream.writableEnded || (this.stream as { cancelled?: boolean }).cancelled === true;
  }
}
