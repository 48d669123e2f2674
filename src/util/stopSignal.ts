import { constants } from 'node:os';
import { stopProgress } from './progress.js';

/** A command stopped by SIGINT or SIGTERM: what was stopped, and how to go on. */
export class Interrupted extends Error {
  constructor(
    readonly signalName: string,
    /** How to go on, e.g. the command that resumes. */
    readonly next: string,
    /** Where the command was stopped, in words ('in training epoch 3 of 25'). */
    readonly where?: string,
  ) {
    super(`stopped by ${signalName}${where ? ` ${where}` : ''}: ${next}`);
    this.name = 'Interrupted';
  }

  /** The same interruption, saying where it happened (and how to go on from there, where that differs). */
  at(where: string, next = this.next): Interrupted {
    return new Interrupted(this.signalName, next, where);
  }
}

const SKIM_NEXT = 'the file being written was removed, finished ones are kept; run the same command again to go on';

/**
 * An AbortSignal that aborts on SIGTERM or SIGINT, so that a long command stops cleanly: the
 * file being written is removed, finished ones stay, and the same command resumes. (A Kubernetes
 * pod runs node as process 1, which ignores SIGTERM unless it is handled.) The abort reason is
 * an Interrupted error saying how to go on (`next`); the process exit code becomes 128 + the
 * signal's number. Progress bars are taken down at once, so that the terminal has its cursor
 * and line wrap back even if a second Ctrl-C kills the process before it stops.
 */
export function stopOnSignals(next = SKIM_NEXT): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handlers = (['SIGTERM', 'SIGINT'] as const).map((name) => {
    const stop = () => {
      process.exitCode = 128 + constants.signals[name];
      stopProgress();
      controller.abort(new Interrupted(name, next));
    };
    process.once(name, stop);
    return [name, stop] as const;
  });
  return { signal: controller.signal, dispose: () => handlers.forEach(([name, stop]) => process.off(name, stop)) };
}
