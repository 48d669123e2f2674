/**
 * Column selection on the toy6d dataset (src/datasets/toy.ts): informative features x and y, pure
 * noise n1..n4, passenger columns event_id and jet_pt (a list) pinned as the analysis' own. Runs
 * three pipelines end to end (train, skim, report) at the same size-term lambda:
 *   rows+columns   features x, y, n1..n4 with column gates (columns.select)
 *   rows-only      the same features, no gates, skim keeping pinned + every candidate
 *   informative    features x and y alone (the AUC to match), skim as rows-only
 * and the rows-only skim of the rows+columns run's own cuts (the same events, so the same signal
 * efficiency). Prints gates, AUC, efficiencies, skim bytes predicted and on disk.
 *
 *   npx tsx scripts/columns-toy.ts [eventsPerClass=20000] [lambda=0.3] [epochs=20]
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPipeline, type RunReport } from '../src/pipeline/runPipeline.js';
import { runSkim } from '../src/skim/runSkim.js';

const [eventsPerClass = 20_000, lambda = 0.3, epochs = 20] = process.argv.slice(2).map(Number);
const dir = await mkdtemp(join(tmpdir(), 'columns-toy-'));
const pinned = ['event_id', 'jet_pt'];
const candidates = ['x', 'y', 'n1', 'n2', 'n3', 'n4'];

function yaml(features: string[], select: boolean, keep: string[]): string {
  return [
    'name: columns-toy',
    `source: { kind: parquet, paths: [toy6d.parquet], generate: toy6d, generateEvents: ${eventsPerClass} }`,
    'label: label',
    'weight: weight',
    `features: [${features.join(', ')}]`,
    'cuts: [{ column: x, op: ">" }, { column: y, op: ">" }]',
    `training: { epochs: ${epochs}, batchSize: 1024, learningRate: 0.01, seed: 7,`,
    '  slopeSchedule: { start: 1, end: 8 } }',
    `loss: { kind: bce, size: { lambda: ${lambda} } }`,
    ...(select ? ['columns: { select: true }'] : []),
    `skim: { keep: [${keep.join(', ')}] }`,
  ].join('\n');
}

async function run(name: string, text: string): Promise<RunReport> {
  await writeFile(join(dir, `${name}.yaml`), text + '\n');
  return runPipeline(join(dir, `${name}.yaml`), { outDir: join(dir, `run-${name}`) });
}

const gated = await run('rows-columns', yaml(candidates, true, pinned));
const rowsOnly = await run('rows-only', yaml(candidates, false, [...pinned, ...candidates]));
const informative = await run('informative', yaml(['x', 'y'], false, [...pinned, ...candidates]));
const sameCuts = await runSkim({
  inputs: [join(dir, 'toy6d.parquet')],
  cuts: gated.cuts,
  outDir: join(dir, 'same-cuts'),
  keep: [...pinned, ...candidates],
});

const kB = (b: number) => `${(b / 1000).toFixed(1)} kB`;
const pct = (x: number | undefined) => `${(100 * (x ?? NaN)).toFixed(2)} %`;
console.log(`toy6d, ${2 * eventsPerClass} events, lambda ${lambda}, ${epochs} epochs; files in ${dir}`);
const c = gated.columns!;
console.log(
  `gates: kept ${c.kept.join(', ')}; dropped ${c.dropped.map((d) => `${d.column} (${kB(d.bytes)})`).join(', ')}`,
);
for (const [name, r] of [
  ['rows+columns', gated],
  ['rows-only', rowsOnly],
  ['informative only', informative],
] as const)
  console.log(
    `${name.padEnd(17)} AUC ${r.auc!.toFixed(4)}  signal eff ${pct(r.signalEfficiency)}  ` +
      `background eff ${pct(r.backgroundEfficiency)}  skim ${kB(r.bytesOut)}`,
  );
console.log(`rows-only skim of the rows+columns cuts (same events): ${kB(sameCuts.bytesOut)}`);
console.log(
  `skim rows+columns / rows-only at the same cuts: ${(gated.bytesOut / sameCuts.bytesOut).toFixed(3)}; ` +
    `AUC rows+columns - informative only: ${(gated.auc! - informative.auc!).toFixed(4)}`,
);
const p = c.predicted;
console.log(
  `predicted vs on disk: skim ${kB(p.bytesOut)} vs ${kB(gated.bytesOut)} ` +
    `(${(p.bytesOut / gated.bytesOut).toFixed(3)}x); ` +
    `saved by columns ${kB(p.bytesSavedByColumns)} vs ${kB(gated.bytesSavedByColumns)}; ` +
    `by rows ${kB(p.bytesSavedByRows)} vs ${kB(gated.bytesSavedByRows)}`,
);
