import { createRequire } from 'node:module';
import type cliProgress from 'cli-progress';

/** Progress of one long stage: a bar on a TTY, JSON lines on stderr otherwise, nothing when quiet. */
export interface Progress {
  advance(events: number, extra?: Record<string, unknown>): void;
  /** The events expected, once known exactly (replaces an estimate). */
  setTotal(total: number): void;
  done(extra?: Record<string, unknown>): void;
  /** The stage stopped on an error: the bar is taken down, or a 'failed' line written. */
  fail(): void;
}

export interface ProgressOptions {
  stage: string;
  /** Events expected, when known (gives an ETA). */
  total?: number;
  /** The total is an estimate (a random split's expected size): lines say so, and the last gives the count. */
  estimated?: boolean;
  quiet?: boolean;
  /** Defaults to process.stderr. */
  stream?: NodeJS.WriteStream;
  /** Minimum milliseconds between JSON lines. */
  intervalMs?: number;
}

let quietByDefault = false;
/** Bars on screen: each hides the cursor and turns line wrap off until it stops. */
const liveBars = new Set<cliProgress.SingleBar>();

/**
 * Takes down every bar still on screen, giving the terminal back its cursor and line wrap, so
 * that a message written next starts on a clean line (an error, Ctrl-C).
 */
export function stopProgress(): void {
  for (const bar of liveBars) bar.stop();
  liveBars.clear();
}

/** Silence every progress display created afterwards (the CLI's --quiet). */
export function setQuietProgress(quiet: boolean): void {
  quietByDefault = quiet;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet ?? quietByDefault) return { advance() {}, setTotal() {}, done() {}, fail() {} };
  const started = performance.now();
  let events = 0;
  let total = options.total;
  const rate = () => Math.round(events / Math.max((performance.now() - started) / 1000, 1e-3));
  if (stream.isTTY) {
    // Loaded here, for a terminal only: the CLI's start (--help) and JSON-lines progress do without it.
    const { SingleBar, Presets } = createRequire(import.meta.url)('cli-progress') as typeof cliProgress;
    const bar = new SingleBar(
      {
        stream,
        format: `${options.stage.padEnd(10)} {bar} {percentage}% | {value}/{total} events | {rate} ev/s | ETA {eta_formatted}`,
        hideCursor: true,
        etaBuffer: 50,
      },
      Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { rate: 0 });
    liveBars.add(bar);
    const stop = () => {
      bar.stop();
      liveBars.delete(bar);
    };
    return {
      advance(n) {
        events += n;
        if (!total) bar.setTotal(events);
        bar.update(events, { rate: rate() });
      },
      setTotal(n) {
        total = n;
        bar.setTotal(n);
      },
      done() {
        if (options.estimated) bar.setTotal(events);
        stop();
      },
      fail: stop,
    };
  }
  const interval = options.intervalMs ?? 2000;
  let last = 0;
  let estimated = options.estimated ?? false;
  const line = (status: string, extra?: Record<string, unknown>) =>
    stream.write(
      JSON.stringify({
        stage: options.stage,
        status,
        events,
        total: total ?? null,
        ...(estimated && { totalEstimated: true }),
        eventsPerSecond: rate(),
        seconds: +((performance.now() - started) / 1000).toFixed(3),
        ...extra,
      }) + '\n',
    );
  return {
    advance(n, extra) {
      events += n;
      const now = performance.now();
      if (now - last >= interval) {
        last = now;
        line('running', extra);
      }
    },
    setTotal(n) {
      [total, estimated] = [n, false];
    },
    done(extra) {
      if (estimated) [total, estimated] = [events, false];
      line('done', extra);
    },
    fail() {
      line('failed');
    },
  };
}
