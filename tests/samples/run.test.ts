import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { cutsToSql, readCutsFile } from '../../src/selection/cutsFile.js';
import { sql, tempDir } from '../parquet/helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup?.());

const sample = (name: string, role: string, extra = '') =>
  `  - { name: ${name}, role: ${role}, xsec: 2.5, source: { kind: parquet, paths: [data/${name}/] }${extra} }\n`;

describe('run: a pipeline of samples', () => {
  it('generates its dataset on first use, trains on the mix and skims every sample; the counts add up', async () => {
    const pipeline = join(dir, 'p.yaml');
    const samples = [
      sample('ttH', 'signal', ', runs: [data/ttH.runs.parquet]'),
      sample('WJets', 'background'),
      sample('QCD_HT500to700', 'background', ', sumGenWeights: 1600'),
    ];
    writeFileSync(
      pipeline,
      `name: samples-run
generate: { dataset: nano-samples, folder: data, files: 2, eventsPerFile: 800, seed: 2 }
luminosity: 1000
samples:
${samples.join('')}features: [count(Jet_pt), MET_pt]
cuts: [{ column: first(Jet_pt), op: ">" }]
training: { epochs: 2, batchSize: 512 }
loss: { kind: bce, size: { lambda: 0.5 } }
`,
    );
    const report = await runPipeline(pipeline, { outDir: join(dir, 'run') });
    expect(existsSync(join(dir, 'data', 'samples.yaml'))).toBe(true);
    expect(report.eventsIn).toBe(3 * 1600);
    expect(report.eventsKept + report.eventsCut).toBe(report.eventsIn);
    expect(report.auc).toBeGreaterThan(0.5);
    // Each sample's skim holds exactly the events DuckDB selects with cuts.json's SQL.
    const where = cutsToSql((await readCutsFile(join(dir, 'run', 'cuts.json'))).cuts);
    let kept = 0;
    for (const name of ['ttH', 'WJets', 'QCD_HT500to700'])
      for (const file of ['nano_1', 'nano_2']) {
        const [{ n }] = await sql(
          `SELECT count(*) AS n FROM '${join(dir, 'data', name, `${file}.parquet`)}' WHERE ${where}`,
        );
        const [{ m }] = await sql(
          `SELECT count(*) AS m FROM '${join(dir, 'run', 'skim', name, `${file}.skim.parquet`)}'`,
        );
        expect(Number(m)).toBe(Number(n));
        kept += Number(m);
      }
    expect(report.eventsKept).toBe(kept);
  });
});
