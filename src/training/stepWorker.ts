/**
 * A worker thread of threadedStepper.ts: its own FusedSelectionModel over a slice of each batch.
 * Commands come in on the port (stepShared.ts); results go to shared memory,
 * then the worker's control slot says DONE (or FAILED, the error posted on the port first) and
 * wakes the main thread, which waits on it with Atomics.wait. A worker that stops (process.exit,
 * an error thrown outside the handler) says FAILED too, with why, from its 'exit' event; one that
 * stops without running JS (out of memory, terminated) the main thread finds stopped.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FusedSelectionModel, type Slopes } from '../model/fused.js';
import type { LossSettings } from '../model/losses.js';
import type { PreparedBatch } from '../model/preparedBatch.js';
import { type Command, DONE, FAILED, sharedViews, type WorkerData } from './stepShared.js';

const data = workerData as WorkerData;
const shared = sharedViews(data.buffers);
const model = new FusedSelectionModel(data.model);
const { index, port } = data;
let batch: PreparedBatch;
let settings: LossSettings;

let thrown: string | undefined;
process.on('uncaughtExceptionMonitor', (e) => (thrown = e instanceof Error ? e.message : String(e)));
process.on('exit', (code) => {
  port.postMessage(thrown !== undefined ? `threw ${thrown}` : `exited with code ${code}`);
  Atomics.store(shared.control, index, FAILED);
  Atomics.notify(shared.control, index);
});

port.on('message', (c: Command) => {
  try {
    if (c.kind === 'sums') {
      settings = c.settings;
      batch = { ...shared.batch, ...c.batch, fullWeight: new Float64Array(0), bytes: new Float64Array(0), objects: [] };
      model.params.set(shared.params);
      const s = model.batchSums(settings, batch, c.from, c.to, c.multiplier);
      shared.sums.set([s.kept, s.sig, s.bkg], 3 * index);
    } else {
      const slopes: Slopes = c.slopes;
      const main = model.eventGradient(settings, batch, c.from, c.to, c.multiplier, slopes);
      shared.mains[index] = main;
      shared.gradients.set(model.gradient, index * model.gradient.length);
    }
    Atomics.store(shared.control, index, DONE);
  } catch (e) {
    port.postMessage(e instanceof Error ? e.message : String(e));
    Atomics.store(shared.control, index, FAILED);
  }
  Atomics.notify(shared.control, index);
});

parentPort!.postMessage('ready');
