/**
 * The trade-off curve of issue #23 on the multi-sample NanoAOD-like data of gen-samples.ts:
 * signal efficiency against skim bytes for the rows-only objective (the size term charges the
 * events the cuts keep; the skim keeps the pinned and every candidate column) and the
 * rows+columns one (column gates on the candidates; the skim keeps the pinned and the kept
 * candidates), at several size-term lambdas. The samples (ttH signal; ttbar, W+jets, QCD) are
 * written once and labelled into one Parquet file by DuckDB (label = 1 for ttH); events count
 * alike (class balance, no cross-section weights). Signal efficiency: the hard cuts' on the
 * validation split. Pinned: run, luminosityBlock, event, genWeight, Muon_* and HLT_*.
 *
 *   npx tsx scripts/columns-samples.ts [eventsPerSample=10000] [epochs=10] [lambdas=0.1,0.3,1,3]
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runPipeline, type RunReport } from '../src/pipeline/runPipeline.js';
import { generateSamples, PROCESSES } from '../src/datasets/nanoSamples.js';

const args = process.argv.slice(2);
const eventsPerSample = Number(args[0] ?? 10_000);
const epochs = Number(args[1] ?? 10);
const lambdas = (args[2] ?? '0.1,0.3,1,3').split(',').map(Number);
const dir = await mkdtemp(join(tmpdir(), 'columns-samples-'));
await generateSamples(join(dir, 'samples'), { files: 1, eventsPerFile: eventsPerSample, seed: 1 });
const db = await DuckDBInstance.create();
const con = await db.connect();
const parts = PROCESSES.map((p) => {
  const file = join(dir, 'samples', p.name, 'nano_1.parquet');
  return `SELECT *, ${p.role === 'signal' ? 1 : 0}::INTEGER AS label FROM '${file}'`;
});
await con.run(`COPY (${parts.join(' UNION ALL ')}) TO '${join(dir, 'mixed.parquet')}' (FORMAT parquet)`);
con.closeSync();

const pinned = ['run', 'luminosityBlock', 'event', 'genWeight', 'Muon_*', 'HLT_*'];
const candidates = ['Jet_pt', 'Jet_eta', 'Jet_phi', 'Jet_btagDeepFlavB', 'MET_pt', 'MET_phi', 'PV_npvs', 'Electron_pt'];
const features = [
  'count(Jet_pt)',
  'first(Jet_pt)',
  'first(Jet_eta)',
  'first(Jet_phi)',
  'first(Jet_btagDeepFlavB)',
  'MET_pt',
  'MET_phi',
  'PV_npvs',
  'first(Electron_pt)',
];
const q = (s: string) => JSON.stringify(s);

async function run(name: string, lambda: number, select: boolean): Promise<RunReport> {
  const text = [
    `name: ${name}`,
    'source: { kind: parquet, paths: [mixed.parquet] }',
    'label: label',
    `features: [${features.map(q).join(', ')}]`,
    'cuts: [{ column: MET_pt, op: ">" }, { column: "first(Jet_pt)", op: ">" }, { column: "count(Jet_pt)", op: ">" }]',
    `training: { epochs: ${epochs}, batchSize: 1024, learningRate: 0.01, seed: 3,`,
    '  slopeSchedule: { start: 1, end: 8 } }',
    `loss: { kind: bce, size: { lambda: ${lambda}, lambdaStart: ${lambda / 30} } }`,
    ...(select ? ['columns: { select: true }'] : []),
    `skim: { keep: [${(select ? pinned : [...pinned, ...candidates]).map(q).join(', ')}] }`,
  ].join('\n');
  await writeFile(join(dir, `${name}.yaml`), text + '\n');
  return runPipeline(join(dir, `${name}.yaml`), { outDir: join(dir, `run-${name}`) });
}

const MB = (b: number) => (b / 1e6).toFixed(3);
const rows: string[] = [];
for (const lambda of lambdas)
  for (const select of [false, true]) {
    const r = await run(`${select ? 'columns' : 'rows'}-${lambda}`, lambda, select);
    const dropped = r.columns ? r.columns.dropped.filter((d) => d.candidate).map((d) => d.column) : [];
    const predicted = r.columns ? `${MB(r.columns.predicted.bytesOut)}` : '';
    rows.push(
      [
        select ? 'rows+columns' : 'rows-only',
        lambda,
        (100 * r.signalEfficiency!).toFixed(1),
        (100 * r.backgroundEfficiency!).toFixed(1),
        r.auc!.toFixed(4),
        MB(r.bytesOut),
        predicted,
        dropped.join(' '),
      ].join(' | '),
    );
  }
console.log(`${PROCESSES.length} samples x ${eventsPerSample} events, ${epochs} epochs; runs in ${dir}`);
console.log(
  '| objective | lambda | signal eff % | background eff % | AUC | skim MB | predicted MB | candidates dropped |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r} |`);
