import { map } from 'rxjs';
import { selectColumns } from './src/batch/batch.js';
import { compileExpr } from './src/selection/expr/index.js';
import { trainSelection } from './src/training/trainer.js';
import { memoryDataset, toyData, toyPipeline } from './scripts/science-common.js';
const [events, batchSize, threads, lambda] = process.argv.slice(2).map(Number);
const memory = memoryDataset(toyData('toy2d', events / 2, 1));
const source = { ...memory.source, batches: (o: any = {}) => memory.source.batches(o).pipe(map((b) => o.columns ? selectColumns(b, [...new Set(o.columns.flatMap((c: string) => compileExpr(c).columns))]) as any : b)) };
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
let t0 = 0, c0 = 0, n = 0, wall = 0, cs = 0, last = { w: 0, c: 0 };
await trainSelection({ settings: toyPipeline({ training: { epochs: 2, batchSize, validationFraction: 0.05, seed: 1, threads }, loss: { size: { lambda } } }), source, info: memory.info,
  onTrainingSplit: () => { t0 = performance.now(); c0 = cpu(); },
  onStep: (k) => { n += k; last = { w: performance.now(), c: cpu() }; },
  onEpoch: () => { wall += last.w - t0; cs += last.c - c0; t0 = performance.now(); c0 = cpu(); } });
console.log(`${batchSize}: ${(n / wall * 1e3 / 1e3).toFixed(0)}k/wall-s ${(n / cs / 1e3).toFixed(0)}k/cpu-s`);
