import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { Command } from 'commander';
import { DEFAULT_MAX_STREAMS } from '../../grpc/serverDefaults.js';

interface ServeCliOptions {
  port: string;
  host: string;
  dataRoot: string[];
  token?: string;
  tlsCert?: string;
  tlsKey?: string;
  model?: string;
  maxStreams: string;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'serve datasets over gRPC (diffskim.v1.DiffSkim + grpc.health.v1.Health): stream batches, run skims, score with a model',
    )
    .requiredOption('--port <port>', 'port to listen on (0: any free port)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .requiredOption('--data-root <dir...>', 'directory clients may read (repeatable); nothing outside is served')
    .option('--token <token>', 'require `authorization: Bearer <token>` on every call (default: $DIFFSKIM_TOKEN)')
    .option('--tls-cert <file>', 'PEM certificate chain (with --tls-key: serve over TLS)')
    .option('--tls-key <file>', 'PEM private key')
    .option('--model <dir>', 'trained model folder, for Evaluate and skims with a score cut')
    .option(
      '--max-streams <n>',
      'StreamBatches and Evaluate calls served at once; more are RESOURCE_EXHAUSTED (each may hold ~100 MB)',
      String(DEFAULT_MAX_STREAMS),
    )
    .action(async (o: ServeCliOptions) => {
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new Error(`--port: '${o.port}' is not a port number`);
      const maxStreams = Number(o.maxStreams);
      if (!Number.isInteger(maxStreams) || maxStreams < 1) {
        throw new Error(`--max-streams: '${o.maxStreams}' is not a whole number of at least 1`);
      }
      if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new Error('--tls-cert and --tls-key go together');
      const read = (f: string, what: string) =>
        readFile(f).catch((e: Error) => Promise.reject(new Error(`${what} ${f}: ${e.message}`)));
      const tls =
        o.tlsCert && o.tlsKey
          ? { cert: await read(o.tlsCert, '--tls-cert'), key: await read(o.tlsKey, '--tls-key') }
          : undefined;
      if (tls) {
        // Checked here, so that a bad file is named (grpc-js reports it as a failure to listen).
        try {
          createSecureContext(tls);
        } catch (e) {
          throw new Error(
            `--tls-cert ${o.tlsCert} / --tls-key ${o.tlsKey}: not a PEM certificate chain and its private key: ${(e as Error).message}`,
          );
        }
      }
      const token = o.token ?? process.env.DIFFSKIM_TOKEN;
      // An empty token (an unset variable in `--token "$TOKEN"`) would serve every caller.
      if (token === '')
        throw new Error(
          `${o.token === undefined ? 'DIFFSKIM_TOKEN' : '--token'} is empty: give the token, or leave it out ` +
            'to serve without one',
        );
      const { useStreamingHeapGrowth } = await import('../../util/heapGrowth.js');
      const { localServerOptions } = await import('../../grpc/localBackends.js');
      const { startServer } = await import('../../grpc/server.js');
      useStreamingHeapGrowth();
      const backends = await localServerOptions(o.model);
      const address = `${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
      const server = await startServer({ dataRoots: o.dataRoot, token, tls, maxStreams, ...backends }, address);
      const warn = !token || !tls ? ` (${[!tls && 'no TLS', !token && 'no token'].filter(Boolean).join(', ')})` : '';
      process.stderr.write(
        `diffskim serve: listening on ${o.host}:${server.port}${warn}; data roots: ${o.dataRoot.join(', ')}${o.model ? `; model: ${o.model}` : ''}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          const st = server.stats;
          process.stderr.write(
            `diffskim serve: shutting down; ${st.started} stream(s) served, at most ${st.maxQueued} batch(es) read ahead and ${st.maxInFlight} message(s) in flight per stream\n`,
          );
          void server.close(5000).then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
