/**
 * Throughput of the ROOT source: events/s, MB/s of file on disk and MB/s of decoded columns.
 *
 *   npx tsx scripts/bench-root.ts [--repeat N] [--batch-rows N] [--range-entries N] [--columns a,b] [files...]
 *
 * Default: every file in ../shared/data/root (beside the checkout), all readable branches, 3 passes each (the
 * first includes jsroot's warm-up). The shipped files are small, so several passes are timed.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { batchBytes } from '../src/batch/batch.js';
import { expandInputs } from '../src/sources/expandInputs.js';
import { rootSource } from '../src/sources/rootSource.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    repeat: { type: 'string', default: '3' },
    'batch-rows': { type: 'string', default: '32768' },
    'range-entries': { type: 'string' },
    columns: { type: 'string' },
  },
});
const repeat = Number(values.repeat);
const batchRows = Number(values['batch-rows']);
const rangeEntries = values['range-entries'] ? Number(values['range-entries']) : undefined;
const columns = values.columns?.split(/,(?![^(]*\))/);
const specs = positionals.length ? positionals : [resolve('..', 'shared', 'data', 'root')];
const files = (await expandInputs(specs, process.cwd(), 'root')).map((f) => f.path);

console.log(`file                                     cols   events   pass ms   events/s   disk MB/s   decoded MB/s`);
for (const file of files) {
  const source = rootSource([file], { rangeEntries });
  const info = await source.describe();
  for (let pass = 1; pass <= repeat; pass++) {
    let events = 0;
    let decoded = 0;
    let ncols = 0;
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) =>
      source.batches({ columns, batchRows }).subscribe({
        next: (b) => {
          events += b.length;
          decoded += batchBytes(b);
          ncols = b.schema.length;
        },
        error: reject,
        complete: resolve,
      }),
    );
    const s = (performance.now() - t0) / 1000;
    const name = file.split('/').pop()!.padEnd(40);
    console.log(
      `${name} ${String(ncols).padStart(4)} ${String(events).padStart(8)} ${(s * 1000).toFixed(0).padStart(9)} ${(events / s).toFixed(0).padStart(10)} ${(info.bytesOnDisk / 1e6 / s).toFixed(2).padStart(11)} ${(decoded / 1e6 / s).toFixed(2).padStart(14)}${pass === 1 ? '  (first pass)' : ''}`,
    );
  }
}
