import type * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';

type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
type Request = { service: string };
type Response = { status: ServingStatus };

/**
 * grpc.health.v1.Health for a fixed set of services ('' is the whole server). Watch streams
 * the current status, then each change, until the client cancels.
 */
export class HealthService {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Set<{ service: string; call: grpc.ServerWritableStream<Request, Response> }>();

  constructor(services: string[]) {
    for (const s of ['', ...services]) this.statuses.set(s, 'SERVING');
  }

  setAll(value: 'SERVING' | 'NOT_SERVING'): void {
    for (const s of this.statuses.keys()) this.statuses.set(s, value);
    for (const w of this.watchers) if (this.statuses.has(w.service)) w.call.write({ status: value });
  }

  /** Ends every Watch stream (at shutdown). */
  endWatches(): void {
    for (const w of this.watchers) w.call.end();
    this.watchers.clear();
  }

  readonly handlers: grpc.UntypedServiceImplementation = {
    check: (call: grpc.ServerUnaryCall<Request, Response>, callback: grpc.sendUnaryData<Response>) => {
      const s = this.statuses.get(call.request.service);
      if (!s) callback({ code: status.NOT_FOUND, details: `unknown service '${call.request.service}'` });
      else callback(null, { status: s });
    },
    watch: (call: grpc.ServerWritableStream<Request, Response>) => {
      const watcher = { service: call.request.service, call };
      call.write({ status: this.statuses.get(watcher.service) ?? 'SERVICE_UNKNOWN' });
      this.watchers.add(watcher);
      call.on('cancelled', () => this.watchers.delete(watcher));
    },
  };
}
