/**
 * What the per-sample report costs: the skim of pipelines/tth-samples.yaml's four samples with fixed
 * cuts, against the extra pass per sample that counts their events and weighted yields before and
 * after the cuts and fills the stacked histograms (countSamples), in the same process, alternating.
 *   npx tsx scripts/bench-sample-report.ts [--repeat 3]
 * Reads the dataset of scripts/gen-samples.ts (data/generated/samples/) and writes the skims to a
 * temporary folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cutRanges } from '../src/eval/cutHistograms.js';
import { countSamples } from '../src/eval/sampleYields.js';
import { existsSync } from 'node:fs';
import { loadPipeline } from '../src/pipeline/load.js';
import { sampleSkimOutputs, skimSample } from '../src/pipeline/skimSample.js';
import { resolveSamples } from '../src/samples/resolve.js';
import type { CutsFile } from '../src/selection/cutsFile.js';

const args = process.argv.slice(2);
const repeat = args.includes('--repeat') ? Number(args[args.indexOf('--repeat') + 1]) : 3;
const path = resolve('pipelines/tth-samples.yaml');
const pipeline = await loadPipeline(path);
const baseDir = dirname(path);
if (!existsSync(resolve(baseDir, '../data/generated/samples/samples.yaml')))
  throw new Error('no data/generated/samples/: write it with npx tsx scripts/gen-samples.ts');
const samples = await resolveSamples(pipeline, baseDir);
const cuts: CutsFile = {
  cuts: [
    { column: 'count(Jet_pt)', op: '>', value: 3.5 },
    { column: 'first(Jet_pt)', op: '>', value: 60 },
    { column: 'MET_pt', op: '>', value: 20 },
  ],
  score: null,
};
const outputs = sampleSkimOutputs(samples);
const events = samples.reduce((n, s) => n + s.info.rows, 0);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const skimTimes: number[] = [];
const countTimes: number[] = [];
for (let r = 0; r < repeat; r++) {
  const out = await mkdtemp(join(tmpdir(), 'bench-sample-report-'));
  let t = performance.now();
  // Rectangular cuts only: each sample's skim runs inside DuckDB.
  for (const [k, s] of samples.entries()) await skimSample(s, outputs[k], { cuts, outDir: out, baseDir });
  skimTimes.push((performance.now() - t) / 1000);
  t = performance.now();
  await countSamples({ samples, cuts: cuts.cuts, ranges: cutRanges(cuts.cuts) });
  countTimes.push((performance.now() - t) / 1000);
  await rm(out, { recursive: true, force: true });
  console.log(`pass ${r + 1}: skim ${skimTimes[r].toFixed(2)} s, yields pass ${countTimes[r].toFixed(2)} s`);
}
const [skim, count] = [median(skimTimes), median(countTimes)];
console.log(
  `${samples.length} samples, ${events} events: skim ${skim.toFixed(2)} s, per-sample yields and histograms ` +
    `${count.toFixed(2)} s (${(count / skim).toFixed(2)}x the skim; ${Math.round(events / count)} events/s), ` +
    `medians of ${repeat}`,
);
