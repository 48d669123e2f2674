/**
 * Wall time of one skim task vs N concurrent shard tasks over the same files (CLI processes, as a
 * batch system would start them; start-up included), then merge:
 *   npx tsx scripts/bench-shards.ts [FILES=8] [EVENTS_PER_FILE=250000] [TASKS=2] [--dir DIR]
 * Inputs are generated with scripts/gen-hep.ts into DIR (default: a temp folder; kept when --dir is given).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DIFFSKIM_BIN } from '../src/skim/shard/command.js';
import { generateHep } from './gen-hep.js';

const run = promisify(execFile);
const args = process.argv.slice(2);
const dirFlag = args.indexOf('--dir');
const keepDir = dirFlag >= 0 ? args.splice(dirFlag, 2)[1] : undefined;
const [files = 8, events = 250_000, tasks = 2] = args.map(Number);
const dir = keepDir ?? (await mkdtemp(join(tmpdir(), 'diffskim-bench-shards-')));

await mkdir(join(dir, 'in'), { recursive: true });
let t = performance.now();
for (let i = 0; i < files; i++) {
  const path = join(dir, 'in', `f${i}.parquet`);
  if (!existsSync(path)) await generateHep(path, events);
}
console.log(
  `inputs: ${files} x ${events} events in ${join(dir, 'in')} (${((performance.now() - t) / 1000).toFixed(1)} s to make)`,
);
await writeFile(
  join(dir, 'cuts.json'),
  JSON.stringify({
    cuts: [
      { column: 'met', op: '>', value: 30 },
      { column: 'lep1_pt', op: '>', value: 20 },
    ],
  }),
);

async function timed(label: string, n: number): Promise<number> {
  const out = join(dir, `out-${n}`);
  await rm(out, { recursive: true, force: true });
  t = performance.now();
  const skimSeconds = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      await run(
        'node',
        [DIFFSKIM_BIN, '-q', 'skim', '--cuts', 'cuts.json', '--input', 'in', '--output', out, '--shard', `${i}/${n}`],
        { cwd: dir },
      );
      return JSON.parse(await readFile(join(out, 'shards', `${i}-of-${n}`, 'report.json'), 'utf8')).seconds as number;
    }),
  );
  const wall = (performance.now() - t) / 1000;
  const m = performance.now();
  await run('node', [DIFFSKIM_BIN, '-q', 'merge', out], { cwd: dir });
  const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
  console.log(
    `${label}: ${wall.toFixed(1)} s wall (skim time per task: ${skimSeconds.map((s) => s.toFixed(1)).join(', ')} s; merge ${((performance.now() - m) / 1000).toFixed(1)} s); ` +
      `${report.eventsIn} events in, ${report.eventsKept} kept`,
  );
  return wall;
}

const one = await timed('1 task ', 1);
const many = await timed(`${tasks} tasks`, tasks);
console.log(`speed-up with ${tasks} concurrent tasks: ${(one / many).toFixed(2)}x`);
if (!keepDir) await rm(dir, { recursive: true, force: true });
