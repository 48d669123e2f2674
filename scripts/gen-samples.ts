/**
 * Writes the multi-sample NanoAOD-like dataset of src/datasets/nanoSamples.ts, deterministic for a seed:
 *   npx tsx scripts/gen-samples.ts [OUT=data/generated/samples] [--files 4] [--events 25000] [--seed 1]
 */
import { generateSamples } from '../src/datasets/nanoSamples.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  const value = i >= 0 ? Number(args.splice(i, 2)[1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
};
const o = { files: flag('--files', 4), eventsPerFile: flag('--events', 25_000), seed: flag('--seed', 1) };
const [out = 'data/generated/samples'] = args;
const t = performance.now();
const sums = await generateSamples(out, o);
for (const s of sums) {
  const negative = 0.5 * (1 - s.genEventSumw / s.genEventCount);
  console.log(
    `${out}/${s.name}: ${s.genEventCount} events in ${s.files.length} files, ` +
      `genEventSumw ${s.genEventSumw.toFixed(2)} (~${(100 * negative).toFixed(1)}% negative)`,
  );
}
console.log(`wrote ${out}/samples.yaml in ${((performance.now() - t) / 1000).toFixed(1)} s`);
