import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type ServerInterceptor,
  ServerInterceptingCall,
  ServerListenerBuilder,
  ResponderBuilder,
  status,
} from '@grpc/grpc-js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * A server interceptor that refuses, with UNAUTHENTICATED, every call whose metadata lacks
 * `authorization: Bearer <token>`. Compares digests in constant time.
 */
export function bearerTokenInterceptor(token: string): ServerInterceptor {
  const expected = digest(token);
  return (_method, call) => {
    const listener = new ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        const header = metadata.get('authorization')[0];
        const m = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim()) : null;
        if (m && timingSafeEqual(digest(m[1]), expected)) next(metadata);
        else
          call.sendStatus({
            code: status.UNAUTHENTICATED,
            details: header ? 'invalid bearer token' : 'missing authorization: Bearer <token> metadata',
          });
      })
      .build();
    return new ServerInterceptingCall(call, new ResponderBuilder().withStart((next) => next(listener)).build());
  };
}
