import type { Writable } from 'node:stream';
import { Demand } from '../sources/demand.js';

/**
 * Writes messages to a gRPC stream and tells the producer, through a Demand, when to stop: the
 * demand is held while write() has returned false (until 'drain') or while `limit` messages are
 * handed to grpc-js and not yet flushed to HTTP/2. A source reading with this demand therefore
 * reads at most one batch past the limit, and a slow client slows the reading.
 */
export class StreamWriter {
  readonly demand = new Demand();
  private pending = 0;
  private holding = false;
  /** Most messages ever waiting in grpc-js at once. */
  maxPending = 0;

  constructor(
    private readonly stream: Writable,
    private readonly limit: number,
  ) {
    const update = () => this.update();
    stream.on('drain', update);
    stream.on('close', update);
    stream.on('cancelled', update);
  }

  /** Hands a message to grpc-js; `flushed` runs once it is written out. False when the stream is gone. */
  write(message: unknown, flushed?: () => void): boolean {
    if (this.gone()) return false;
    this.pending++;
    this.maxPending = Math.max(this.maxPending, this.pending);
    this.stream.write(message, () => {
      this.pending--;
      flushed?.();
      this.update();
    });
    this.update();
    return true;
  }

  /** Writes and waits for room for the next message; false when the stream is gone. */
  async writeAndWait(message: unknown): Promise<boolean> {
    if (!this.write(message)) return false;
    await this.demand.ready();
    return !this.gone();
  }

  gone(): boolean {
    return (
      this.stream.destroyed || this.stream.writableEnded || (this.stream as { cancelled?: boolean }).cancelled === true
    );
  }

  private update(): void {
    // A stream that is gone releases the demand, so that nothing waits on it forever.
    const full = !this.gone() && (this.stream.writableNeedDrain || this.pending >= this.limit);
    if (full && !this.holding) this.demand.hold();
    else if (!full && this.holding) this.demand.release();
    this.holding = full;
  }
}
