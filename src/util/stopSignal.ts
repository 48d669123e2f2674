import { constants } from 'node:os';

/**
 * An AbortSignal that aborts on SIGTERM or SIGINT, so that a long command stops cleanly: the
 * file being written is removed, finished ones stay, and the same command resumes. (A Kubernetes
 * pod runs node as process 1, which ignores SIGTERM unless it is handled.) The process exit code
 * becomes 128 + the signal's number.
 */
export function stopOnSignals(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handlers = (['SIGTERM', 'SIGINT'] as const).map((name) => {
    const stop = () => {
      process.exitCode = 128 + constants.signals[name];
      controller.abort(new Error(`stopped by ${name}: the file being written was removed, finished ones are kept; run the same command again to go on`));
    };
    process.once(name, stop);
    return [name, stop] as const;
  });
  return { signal: controller.signal, dispose: () => handlers.forEach(([name, stop]) => process.off(name, stop)) };
}
