import * as grpc from '@grpc/grpc-js';
import { CHANNEL_OPTIONS, CLIENT_WINDOW_BYTES, services } from './protos.js';

export interface ConnectOptions {
  /** Sent as `authorization: Bearer <token>` on every call. */
  token?: string;
  /** Use TLS; `ca` is the certificate that signed the server's (default: the system roots). */
  tls?: { ca?: Buffer; serverName?: string };
  /** HTTP/2 receive window in bytes (default CLIENT_WINDOW_BYTES): data in flight to this client. */
  windowBytes?: number;
}

/** A diffskim.v1.DiffSkim client (and the metadata each call needs). Close it when done. */
export function connect(
  address: string,
  options: ConnectOptions = {},
): { client: grpc.Client & Record<string, Function>; metadata: () => grpc.Metadata } {
  const credentials = options.tls
    ? grpc.credentials.createSsl(options.tls.ca ?? null)
    : grpc.credentials.createInsecure();
  const channelOptions: grpc.ChannelOptions = {
    ...CHANNEL_OPTIONS,
    'grpc-node.flow_control_window': options.windowBytes ?? CLIENT_WINDOW_BYTES,
  };
  if (options.tls?.serverName) channelOptions['grpc.ssl_target_name_override'] = options.tls.serverName;
  const client = new (services().DiffSkim)(address, credentials, channelOptions) as grpc.Client &
    Record<string, Function>;
  const metadata = () => {
    const m = new grpc.Metadata();
    if (options.token) m.set('authorization', `Bearer ${options.token}`);
    return m;
  };
  return { client, metadata };
}

/** An Error for a failed call that keeps the status code (`code`) and names the RPC and server. */
export function callError(address: string, rpc: string, e: grpc.ServiceError): Error & { code: grpc.status } {
  const name = grpc.status[e.code] ?? String(e.code);
  return Object.assign(new Error(`gRPC ${rpc} on ${address} failed (${name}): ${e.details || e.message}`), {
    code: e.code,
  });
}

/** A unary call as a promise. */
export function unaryCall<Res>(
  address: string,
  options: ConnectOptions,
  rpc: string,
  request: unknown,
  deadlineMs?: number,
): Promise<Res> {
  const { client, metadata } = connect(address, options);
  const callOptions = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
  return new Promise<Res>((resolve, reject) => {
    client[rpc](request, metadata(), callOptions, (e: grpc.ServiceError | null, res: Res) => {
      client.close();
      if (e) reject(callError(address, rpc[0].toUpperCase() + rpc.slice(1), e));
      else resolve(res);
    });
  });
}
