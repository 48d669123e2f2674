import { makeBatch, type EventBatch } from '../batch/batch.js';
import { normalSampler, seededRandom } from '../util/random.js';

/**
 * The seed talk's toy: signal ~ N((1.5, 2.0), [[0.5, 0.2], [0.2, 0.5]]), background ~
 * N((0, 0), [[9, 0], [0, 9]]), classes interleaved at random. Besides the features x, y, a
 * label and a weight, each event carries passenger columns (an id and a variable-length
 * jet_pt list) so that a skim has real bytes to save. 'toy6d' adds four pure-noise features
 * n1..n4 ~ N(0, 1) for both classes.
 */
export interface ToyOptions {
  kind: 'toy2d' | 'toy6d';
  /** Events per class. */
  eventsPerClass: number;
  seed?: number;
  /** Events per emitted batch. */
  batchSize?: number;
}

// Cholesky factor of the signal covariance [[0.5, 0.2], [0.2, 0.5]].
const L11 = Math.sqrt(0.5);
const L21 = 0.2 / L11;
const L22 = Math.sqrt(0.5 - L21 * L21);

export function* toyBatches(options: ToyOptions): Generator<EventBatch> {
  const uniform = seededRandom(options.seed ?? 1234);
  const normal = normalSampler(uniform);
  const total = 2 * options.eventsPerClass;
  const size = options.batchSize ?? 16384;
  const noise = options.kind === 'toy6d' ? 4 : 0;
  let signalLeft = options.eventsPerClass;
  let backgroundLeft = options.eventsPerClass;
  for (let start = 0; start < total; start += size) {
    const n = Math.min(size, total - start);
    const x = new Float32Array(n);
    const y = new Float32Array(n);
    const label = new Int32Array(n);
    const weight = new Float32Array(n);
    const eventId = new BigInt64Array(n);
    const extra = Array.from({ length: noise }, () => new Float32Array(n));
    const counts = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      // Draw the class so that exactly eventsPerClass of each come out.
      const signal = uniform() * (signalLeft + backgroundLeft) < signalLeft;
      if (signal) signalLeft--;
      else backgroundLeft--;
      const a = normal();
      const b = normal();
      if (signal) {
        x[i] = 1.5 + L11 * a;
        y[i] = 2.0 + L21 * a + L22 * b;
      } else {
        x[i] = 3 * a;
        y[i] = 3 * b;
      }
      label[i] = signal ? 1 : 0;
      weight[i] = 1;
      eventId[i] = BigInt(start + i);
      for (const e of extra) e[i] = normal();
      counts[i] = Math.min(12, Math.floor(-Math.log(1 - uniform()) * (signal ? 5 : 3)));
    }
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + counts[i];
    const jetPt = new Float32Array(offsets[n]);
    for (let k = 0; k < jetPt.length; k++) jetPt[k] = 20 - 30 * Math.log(1 - uniform());
    const cols: Parameters<typeof makeBatch>[0] = { event_id: eventId, x, y };
    const types: Parameters<typeof makeBatch>[1] = {
      event_id: 'int64',
      x: 'float32',
      y: 'float32',
      label: 'int32',
      weight: 'float32',
      jet_pt: 'float32',
    };
    extra.forEach((e, k) => {
      cols[`n${k + 1}`] = e;
      types[`n${k + 1}`] = 'float32';
    });
    Object.assign(cols, { label, weight, jet_pt: { offsets, values: jetPt } });
    yield makeBatch(cols, types);
  }
}
