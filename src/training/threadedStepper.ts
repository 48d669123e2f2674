import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { batchTerms, type BatchSums, FusedSelectionModel, type LossTerms } from '../model/fused.js';
import type { LossSettings } from '../model/losses.js';
import type { PreparedBatch } from '../model/preparedBatch.js';
import { cutEdges } from '../model/cuts.js';
import { hasCuts, hasMlp, type SelectionModel } from '../model/model.js';
import { FusedState } from './fusedState.js';
import { prepareBatch } from './prepare.js';
import { BUSY, type Command, FAILED, type SharedBuffers, sharedViews, type WorkerData } from './stepShared.js';
import type { Stepper, StepResult } from './stepper.js';

/**
 * The fused kernel's step, data-parallel over `threads` worker threads (stepWorker.ts), and
 * overlapping the data path: each batch is cut into one slice of events per worker (multiples
 * of 16 events). A step is two rounds: every worker sums its slice's cut factors (and s and b);
 * this thread adds the sums up into the batch-wide terms (fused.ts' batchTerms); every worker
 * then computes its slice's gradient. step() returns while they do, so that the next batch is
 * read and prepared meanwhile; the next step() (or flush()) waits for them, adds the gradients
 * up and applies Adam here.
 *
 * Bit-identical for a given seed and thread count: every sum runs in a fixed order (the
 * slices' sums and gradients are added in worker order), whatever the threads' timing. A
 * different thread count cuts the batch differently, which changes the last bits of the
 * float32 chunk sums.
 *
 * Batches hold at most `maxEvents` events (the training's batch size: rebatch gives no more).
 * A worker that fails or stops fails the step at once (StepThreadError; see StepThreads.wait).
 */
export async function threadedStepper(
  model: SelectionModel,
  learningRate: number,
  backend: string,
  threads: number,
  maxEvents: number,
  workerModule?: URL,
): Promise<Stepper> {
  const pool = await StepThreads.open(model, threads, maxEvents, workerModule);
  const state = new FusedState(model, learningRate, backend);
  let done: ((r: StepResult | null) => void) | null = null;
  // The step under way's settings (its multiplier scales the gradient: losses.ts' stepScale).
  let stepSettings: LossSettings | null = null;
  const finish = (): void => {
    if (!done) return;
    const report = done;
    done = null;
    const { terms, gradient } = pool.finish();
    report(state.apply(stepSettings!, terms, gradient));
  };
  return {
    step: (settings, layout, batch, multiplier, then) => {
      // Prepared while the workers finish the last step.
      const prepared = prepareBatch(layout, batch);
      finish();
      if (prepared.sumWeight <= 0 || prepared.sumBytes <= 0) return then(null);
      // Read after the last step's `then`, which may have changed the multiplier (Stepper.step).
      stepSettings = { ...settings };
      pool.start(state.fm.params, stepSettings, prepared, multiplier);
      done = then;
    },
    flush: finish,
    ...state.methods(),
    dispose: () => {
      done = null;
      pool.dispose();
    },
  };
}

/**
 * The worker threads of a fused model: the loss and gradient of a batch, its events cut into
 * one slice per thread. start() returns while the workers compute the slices' gradients.
 */
export class StepThreads {
  private readonly shared: ReturnType<typeof sharedViews>;
  private readonly workers: { worker: Worker; port: MessagePort }[] = [];
  private readonly gradient: Float64Array;
  private readonly cuts: boolean;
  /** The step under way: its batch-wide loss terms. */
  private pending: { main: number; size: number; kept: number } | null = null;
  /** Steps started, and what the workers' round under way computes (for errors). */
  private steps = 0;
  private doing = '';

  /**
   * Starts `threads` workers on `model`, for batches of at most maxEvents events. `entry`: the
   * workers' module (tests give one that runs stepWorker.ts and dies).
   */
  static async open(model: SelectionModel, threads: number, maxEvents: number, entry?: URL): Promise<StepThreads> {
    const pool = new StepThreads(model, threads, maxEvents, entry);
    try {
      await Promise.all(
        pool.workers.map(
          ({ worker }, w) =>
            new Promise((ready, fail) => {
              worker.once('message', ready);
              worker.once('error', (e) =>
                fail(new Error(`training worker thread ${w + 1} did not start: ${e.message}`)),
              );
            }),
        ),
      );
    } catch (e) {
      pool.dispose();
      throw e;
    }
    // From here on, the workers report errors through their control slot and port.
    for (const { worker } of pool.workers) worker.removeAllListeners().on('error', () => {});
    // Node reads a worker's loop start time once, at the first call, and a stopped worker has
    // none: asked now, stopped() can tell later.
    for (const { worker } of pool.workers) worker.performance.eventLoopUtilization();
    return pool;
  }

  private constructor(
    model: SelectionModel,
    private readonly threads: number,
    private readonly maxEvents: number,
    entry?: URL,
  ) {
    const P = new FusedSelectionModel(model).params.length;
    const F = hasMlp(model) ? model.features.length : 0;
    const E = hasCuts(model) ? cutEdges(model.cuts).length : 0;
    this.cuts = E > 0;
    const sab = (bytes: number) => new SharedArrayBuffer(Math.max(bytes, 8));
    const buffers: SharedBuffers = {
      control: sab(4 * threads),
      params: sab(4 * P),
      sums: sab(8 * 3 * threads),
      mains: sab(8 * threads),
      gradients: sab(8 * P * threads),
      features: sab(4 * maxEvents * F),
      cutValues: sab(4 * maxEvents * E),
      label: sab(4 * maxEvents),
      weight: sab(4 * maxEvents),
      keptBytes: sab(4 * maxEvents),
    };
    this.shared = sharedViews(buffers);
    this.gradient = new Float64Array(P);
    for (let index = 0; index < threads; index++) {
      const { port1, port2 } = new MessageChannel();
      const worker = startWorker({ index, model, port: port2, buffers }, [port2], entry);
      // This thread waits for them in Atomics.wait, not on its event loop: they must not keep it alive.
      worker.unref();
      this.workers.push({ worker, port: port1 });
    }
  }

  /** Starts a step at `params` on a prepared batch: the sums' round, then the gradients' (not waited for). */
  start(params: Float32Array, settings: LossSettings, prepared: PreparedBatch, multiplier: number): void {
    const { shared, threads } = this;
    const n = prepared.n;
    if (n > this.maxEvents) throw new Error(`threaded step: a batch of ${n} events, more than ${this.maxEvents}`);
    for (const key of ['features', 'cutValues', 'label', 'weight', 'keptBytes'] as const)
      shared.batch[key].set(prepared[key]);
    shared.params.set(params);
    this.steps++;
    const batch = {
      n,
      sumWeight: prepared.sumWeight,
      sumSignalWeight: prepared.sumSignalWeight,
      sumBackgroundWeight: prepared.sumBackgroundWeight,
      sumBytes: prepared.sumBytes,
    };
    this.round(n, 'the cut factors', (from, to) => ({ kind: 'sums', settings, multiplier, from, to, batch }));
    this.wait();
    const sums: BatchSums = { kept: 0, sig: 0, bkg: 0 };
    for (let w = 0; w < threads; w++) {
      sums.kept += shared.sums[3 * w];
      sums.sig += shared.sums[3 * w + 1];
      sums.bkg += shared.sums[3 * w + 2];
    }
    const terms = batchTerms(settings, prepared, sums, this.cuts);
    const slopes = { dKept: terms.dKept, dSig: terms.dSig, dBkg: terms.dBkg };
    this.round(n, 'the gradient', (from, to) => ({ kind: 'gradient', multiplier, from, to, slopes }));
    this.pending = { main: terms.main, size: terms.size, kept: terms.kept };
  }

  /** Waits for the step started last: its loss terms, and its gradient (the slices' added in order). */
  finish(): { terms: LossTerms; gradient: Float64Array } {
    const { shared, gradient, threads } = this;
    if (!this.pending) throw new Error('StepThreads.finish: no step under way');
    const { size, kept } = this.pending;
    let main = this.pending.main;
    this.pending = null;
    this.wait();
    const P = gradient.length;
    gradient.fill(0);
    for (let w = 0; w < threads; w++) {
      main += shared.mains[w];
      const g = shared.gradients.subarray(w * P, (w + 1) * P);
      for (let i = 0; i < P; i++) gradient[i] += g[i];
    }
    return { terms: { total: main + size, main, size, kept }, gradient };
  }

  dispose(): void {
    this.pending = null;
    for (const { worker, port } of this.workers) {
      port.close();
      void worker.terminate();
    }
  }

  /** Sends each worker its slice's command (slices of a multiple of 16 events). */
  private round(n: number, what: string, command: (from: number, to: number) => Command): void {
    const per = Math.ceil(n / this.threads / 16) * 16;
    this.doing = `${what} of step ${this.steps} (a batch of ${n} events)`;
    this.workers.forEach(({ port }, w) => {
      // A worker that stopped since its last round has said FAILED.
      if (Atomics.exchange(this.shared.control, w, BUSY) === FAILED) throw this.failed(w);
      port.postMessage(command(Math.min(n, w * per), Math.min(n, (w + 1) * per)));
    });
  }

  /**
   * Waits for every worker's round. This thread blocks (its event loop cannot hear the workers'
   * 'exit' events), so it waits in short slices and between them asks whether the worker has
   * stopped: one that stops without a word (out of memory, terminated) is found within a slice.
   */
  private wait(): void {
    const { control } = this.shared;
    this.workers.forEach(({ worker }, w) => {
      // A wake-up can be a late one from the worker's last round: wait until the slot changes.
      const deadline = performance.now() + ANSWER_MS;
      while (Atomics.load(control, w) === BUSY) {
        const left = deadline - performance.now();
        if (left <= 0) throw this.error(w, `did not answer in ${ANSWER_MS / 1000} s`);
        if (Atomics.wait(control, w, BUSY, Math.min(left, SLICE_MS)) === 'timed-out' && stopped(worker))
          // Its last word, if it had time for one (FAILED), else none.
          throw Atomics.load(control, w) === FAILED ? this.failed(w) : this.error(w, 'stopped (out of memory?)');
      }
      if (Atomics.load(control, w) === FAILED) throw this.failed(w);
    });
  }

  /** The error of worker w, which said FAILED: why, from its port. */
  private failed(w: number): StepThreadError {
    return this.error(w, `failed: ${receiveMessageOnPort(this.workers[w].port)?.message ?? 'no reason given'}`);
  }

  private error(w: number, what: string): StepThreadError {
    return new StepThreadError(`training worker thread ${w + 1} of ${this.threads}, computing ${this.doing}, ${what}`);
  }
}

/** A training worker thread failed, stopped or did not answer; the message says which and what it was doing. */
export class StepThreadError extends Error {
  readonly code = 'ERR_TRAINING_THREAD';
}

/**
 * Whether a worker thread has stopped, asked synchronously: Node reports a stopped thread's
 * event-loop idle time as -1 (its 'exit' event needs this thread's event loop).
 */
function stopped(worker: Worker): boolean {
  return worker.performance.eventLoopUtilization().idle < 0;
}

/** How long a wait for a worker blocks before asking whether it has stopped. */
const SLICE_MS = 100;

/** Longest wait for a worker's round (its first includes starting the thread). */
const ANSWER_MS = 120_000;

/**
 * A worker running `module`, by default stepWorker.js next to this file (from the TypeScript
 * sources, tests and tsx, stepWorker.ts); a TypeScript module runs through tsx registered in the
 * worker (a worker's --import does not reach its entry module).
 */
function startWorker(data: WorkerData, transferList: MessagePort[], module?: URL): Worker {
  const here = fileURLToPath(import.meta.url);
  const ts = here.endsWith('.ts');
  const entry = module ?? pathToFileURL(join(dirname(here), ts ? 'stepWorker.ts' : 'stepWorker.js'));
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: data, transferList });
  const tsx = pathToFileURL(
    join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs'),
  );
  const code = `import(${JSON.stringify(tsx.href)}).then((t) => (t.register(), import(${JSON.stringify(entry.href)})))`;
  return new Worker(code, { eval: true, workerData: data, transferList });
}
