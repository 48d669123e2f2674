/**
 * The seed paper's toy, end to end: trains cuts x sigmoid(MLP), the MLP alone and cuts alone
 * (and cuts x MLP with a size term), then scores an independent test sample with the soft
 * model and with the learned cuts applied as hard cuts.
 *
 *   npx tsx scripts/toy-auc.ts [eventsPerClass=20000] [epochs=15] [lambda=1]
 */
import { hardCutPass, mlpScore, scoreBatch } from '../src/model/score.js';
import { toCutsFile } from '../src/model/toCutsFile.js';
import { AucAccumulator } from '../src/training/auc.js';
import { trainSelection } from '../src/training/trainer.js';
import { memoryDataset, toyData, toyPipeline } from './science-common.js';

const [eventsPerClass = 20_000, epochs = 15, lambda = 1] = process.argv.slice(2).map(Number);
const train = toyData('toy2d', eventsPerClass, 1);
const test = toyData('toy2d', eventsPerClass, 2);
const { source, info } = memoryDataset(train);

const runs: { name: string; overrides: Record<string, unknown> }[] = [
  { name: 'cuts x MLP', overrides: {} },
  { name: 'MLP only', overrides: { model: { kind: 'mlp' } } },
  { name: 'cuts only', overrides: { model: { kind: 'cuts' } } },
  { name: `cuts x MLP, size lambda=${lambda}`, overrides: { loss: { size: { lambda } } } },
];

for (const run of runs) {
  const pipeline = toyPipeline({ training: { epochs, batchSize: 1024, learningRate: 0.01 }, ...run.overrides });
  const r = await trainSelection({ settings: pipeline, source, info });
  const soft = new AucAccumulator();
  const hard = new AucAccumulator();
  let sig = 0;
  let sigKept = 0;
  let bkg = 0;
  let bkgKept = 0;
  for (const b of test) {
    const label = b.columns.label.values as Int32Array;
    const pass = hardCutPass(r.model, b);
    const score = r.model.kind === 'cuts' ? null : mlpScore(r.model, b);
    soft.add(scoreBatch(r.model, b), label);
    hard.add(
      Float64Array.from(pass, (p, i) => p * (score ? score[i] : 1)),
      label,
    );
    for (let i = 0; i < b.length; i++) {
      if (label[i]) [sig, sigKept] = [sig + 1, sigKept + pass[i]];
      else [bkg, bkgKept] = [bkg + 1, bkgKept + pass[i]];
    }
  }
  console.log(`\n${run.name}  (${r.backend}, ${r.eventsPerSecond.toFixed(0)} events/s)`);
  console.log(
    `  validation AUC ${r.validationAuc.toFixed(4)}   test AUC soft ${soft.value().toFixed(4)}  hard cuts x score ${hard.value().toFixed(4)}`,
  );
  console.log(`  cuts: ${JSON.stringify(toCutsFile(r.model, null).cuts)}`);
  console.log(
    `  predicted kept fraction ${r.keptFractionPredicted.toFixed(3)} (bytes ${r.keptBytesFractionPredicted.toFixed(3)}); hard cuts keep signal ${(sigKept / sig).toFixed(3)}, background ${(bkgKept / bkg).toFixed(3)}`,
  );
  for (const w of r.warnings) console.log(`  warning: ${w}`);
}
