/**
 * A training worker (src/training/stepWorker.ts) that dies at its third command (the second
 * step's first round), for threadedStepper.test.ts. Its URL's query says which thread dies
 * (`thread`, 0-based) and how (`how`): 'exit' (process.exit), 'throw' (an error thrown outside
 * the message handler), 'silent' (stops without running its 'exit' handlers, as a worker out of
 * memory or terminated does).
 */
import { workerData } from 'node:worker_threads';
import type { WorkerData } from '../../src/training/stepShared.js';

const query = new URL(import.meta.url).searchParams;
const data = workerData as WorkerData;
if (data.index === Number(query.get('thread'))) {
  let commands = 0;
  // Registered before stepWorker.ts' own handler: it dies before computing.
  data.port.on('message', () => {
    if (++commands < 3) return;
    const how = query.get('how');
    if (how === 'throw')
      setImmediate(() => {
        throw new Error('injected failure');
      });
    else {
      if (how === 'silent') process.removeAllListeners('exit');
      process.exit(7);
    }
  });
}
await import('../../src/training/stepWorker.js');
