/**
 * diffskim as one stage of a delivery chain: server A streams events to `diffskim run`, which
 * learns the cuts; the cuts are then pushed to server B, which skims the full dataset where it
 * lies (RunSkim) and reports the bytes saved. Nothing but the cuts travels to B.
 *
 *   npx diffskim serve --port 50051 --data-root /data/sample &   # server A: what training reads
 *   npx diffskim serve --port 50052 --data-root /data/full &     # server B: the full dataset
 *   npx tsx examples/delivery-chain.ts --pipeline chain.yaml --out runs/chain \
 *       --skim-server 127.0.0.1:50052 --skim-input 'mc/*.parquet' --skim-out skims
 *
 * chain.yaml is a pipeline file whose source is server A:
 *   source: { kind: grpc, address: "127.0.0.1:50051", paths: [mc/part-0.parquet] }
 * --skim-input (repeatable; default: the pipeline's source paths) and --skim-out are paths on
 * server B, relative to its data root. --token T (or $DIFFSKIM_TOKEN) is server B's token;
 * server A's is the pipeline's source.token. Only the hard cuts travel: server B would score with
 * whatever model it was started with, which this run cannot check, so a pipeline with a score cut
 * (skim.scoreCut) is refused before training, unless --without-score pushes its hard cuts alone
 * (server B then keeps more events than the run's own skim).
 *
 * It prints the events and bytes server A served, the cuts learned, and server B's skim report,
 * and checks that server B's counts add up (events in = kept + cut). Any failure is one line on
 * stderr and exit status 1.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { unaryCall } from '../src/sources/grpc/client.js';
import { encodeCut } from '../src/sources/grpc/codec.js';
import { grpcSource } from '../src/sources/grpc/grpcSource.js';
import type { SkimReportMsg } from '../src/sources/grpc/messages.js';
import { loadPipeline } from '../src/pipeline/load.js';
import { runPipeline } from '../src/pipeline/runPipeline.js';
import { type HardCut, readCutsFile } from '../src/selection/cutsFile.js';

const describeCut = (c: HardCut) =>
  c.op === 'between' ? `${c.low} < ${c.column} < ${c.high}` : `${c.column} ${c.op} ${c.value}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pipeline: { type: 'string' },
      out: { type: 'string' },
      'skim-server': { type: 'string' },
      'skim-input': { type: 'string', multiple: true, default: [] },
      'skim-out': { type: 'string', default: 'skims' },
      token: { type: 'string', default: process.env.DIFFSKIM_TOKEN },
      'without-score': { type: 'boolean', default: false },
    },
  });
  const { pipeline: pipelinePath, out, 'skim-server': serverB } = values;
  if (!pipelinePath || !out || !serverB) throw new Error('give --pipeline FILE, --out DIR and --skim-server HOST:PORT');
  const pipeline = await loadPipeline(pipelinePath);
  const source = pipeline.source;
  if (source?.kind !== 'grpc') {
    const kind = source ? `source.kind is '${source.kind}'` : 'it has samples, not one source';
    throw new Error(`${pipelinePath}: ${kind}; the chain trains from server A (source.kind: grpc)`);
  }

  if (pipeline.skim.scoreCut !== null && !values['without-score']) {
    throw new Error(
      `${pipelinePath}: skim.scoreCut needs this run's model on server B, which cannot be checked; ` +
        'pass --without-score to push the hard cuts alone (they keep more events than the score cut)',
    );
  }

  // Server B's inputs are checked (Describe) before training, so a wrong path fails at once.
  const inputs = values['skim-input'].length ? values['skim-input'] : source.paths;
  const full = await grpcSource(serverB, { paths: inputs, token: values.token }).describe();

  // 1. Train from server A's stream (diffskim run); its own skim of the stream is written under --out.
  const run = await runPipeline(pipelinePath, { outDir: out });
  const paths = source.paths.join(', ');
  console.log(`server A ${source.address}: served ${run.eventsIn} events, ${run.bytesIn} bytes on disk (${paths})`);
  const auc = run.auc === undefined ? '' : `, validation AUC ${run.auc.toFixed(3)}`;
  console.log(`diffskim run: trained in ${run.timings.trainSeconds.toFixed(1)} s${auc}; run folder ${out}`);

  // 2. The cuts learned, as written to cuts.json (the file any other tool would be given).
  const cutsPath = join(out, 'cuts.json');
  const cuts = await readCutsFile(cutsPath);
  console.log(`cuts learned (${cutsPath}):`);
  for (const c of cuts.cuts) console.log(`  ${describeCut(c)}`);
  if (cuts.score) console.log(`  score > ${cuts.score.value} (not pushed: --without-score)`);

  // 3. Push them to server B's RunSkim, which skims its files where they lie.
  console.log(
    `server B ${serverB}: ${full.files.length} file(s), ${full.rows} events, ${full.bytesOnDisk} bytes on disk`,
  );
  const request = {
    inputs,
    cuts: cuts.cuts.map(encodeCut),
    outputDir: values['skim-out'],
  };
  const skim = await unaryCall<SkimReportMsg>(serverB, { token: values.token }, 'runSkim', request);
  const { eventsIn, eventsKept: kept, eventsCut: cut, bytesIn, bytesOut, bytesSaved } = skim;
  console.log(`RunSkim on server B: ${eventsIn} events in, ${kept} kept, ${cut} cut; ${skim.skimFiles.join(', ')}`);
  const saved = bytesIn > 0 ? ` (${((100 * bytesSaved) / bytesIn).toFixed(1)} %)` : '';
  console.log(`bytes: ${bytesIn} in, ${bytesOut} out, ${bytesSaved} saved${saved}`);
  if (kept + cut !== eventsIn)
    throw new Error(`server B's counts do not add up: ${eventsIn} events in, but ${kept} kept + ${cut} cut`);
  console.log(`counts add up: ${eventsIn} = ${kept} kept + ${cut} cut`);
}

main().catch((e: Error) => {
  process.stderr.write(`delivery-chain: ${e.message}\n`);
  process.exitCode = 1;
});
