/**
 * Fuzzes the Parquet reader and the skim with corrupted copies of a valid file (bit flips,
 * truncations, zeroed byte ranges):
 *   npx tsx scripts/fuzz-parquet.ts VALID.parquet [COUNT=200] [--seed S] [--timeout-ms 10000]
 * Each corrupted file is read whole (parquetSource) and skimmed (runSkim) in a child process, so
 * that a native crash (DuckDB, WebAssembly) is caught and reported instead of killing the run,
 * and a hang is killed after the timeout. Every case must end in a clean Error whose message
 * names the file, or in a read with the original row count and schema.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { seededRandom } from '../src/util/random.js';

export type Corruption =
  | { kind: 'flip'; bits: number[] }
  | { kind: 'truncate'; length: number }
  | { kind: 'zero'; start: number; end: number };

/** `count` corruptions of a file of `size` bytes; a third aim at the footer (its last KiB). */
export function corruptions(size: number, count: number, seed: string | number): Corruption[] {
  const rnd = seededRandom(`fuzz:${seed}`);
  const offset = (footer: boolean) =>
    footer ? size - 1 - Math.floor(rnd() * Math.min(1024, size)) : Math.floor(rnd() * size);
  return Array.from({ length: count }, (_, i): Corruption => {
    const footer = i % 3 === 2;
    switch (i % 3 === 2 ? Math.floor(rnd() * 3) : i % 3) {
      case 0:
        return {
          kind: 'flip',
          bits: Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => offset(footer) * 8 + Math.floor(rnd() * 8)),
        };
      case 1:
        return { kind: 'truncate', length: footer ? offset(true) : Math.floor(rnd() * size) };
      default: {
        const start = offset(footer);
        return { kind: 'zero', start, end: Math.min(size, start + 1 + Math.floor(rnd() * 4096)) };
      }
    }
  });
}

export function applyCorruption(bytes: Uint8Array, c: Corruption): Uint8Array {
  if (c.kind === 'truncate') return bytes.slice(0, c.length);
  const out = bytes.slice();
  if (c.kind === 'zero') out.fill(0, c.start, c.end);
  else for (const b of c.bits) out[b >> 3] ^= 1 << (b & 7);
  return out;
}

/** What one operation on one file gave (reported by the worker as a JSON line). */
export interface OpOutcome {
  op: 'read' | 'skim';
  error?: string;
  rows?: number;
  schema?: string;
  kept?: number;
  /** Rows in the skim file on disk (skim only). */
  written?: number;
  /** Files left in the skim's output directory after a failure. */
  leftovers?: string[];
}

export type Verdict =
  'error' | 'read' | 'read-changed-values' | 'error-without-file-name' | 'implausible' | 'crash' | 'hang' | 'leftovers';
export const FAILURES: Verdict[] = ['error-without-file-name', 'implausible', 'crash', 'hang', 'leftovers'];

export interface FuzzCase {
  file: string;
  corruption: Corruption;
  verdict: Verdict;
  detail: string;
}

export interface FuzzReport {
  cases: FuzzCase[];
  counts: Record<Verdict, number>;
  seconds: number;
}

/** The worker: for each file named on stdin, one JSON line per operation. */
async function worker(): Promise<void> {
  const { lastValueFrom, reduce } = await import('rxjs');
  const { parquetSource } = await import('../src/sources/parquet.js');
  const { runSkim } = await import('../src/skim/runSkim.js');
  const { readParquetMeta } = await import('../src/sources/parquetMeta.js');
  const { describeField } = await import('../src/batch/schema.js');
  const checksum = (values: ArrayLike<number | bigint>) => {
    let s = 0;
    for (let i = 0; i < values.length; i++) s = (s * 31 + Number(values[i])) % 1e9 || 0;
    return s;
  };
  const say = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const { file, out, cut } = JSON.parse(line) as { file: string; out: string; cut: string };
    say({ start: file });
    // Self-test of the harness: FUZZ_SELFTEST="crash:NAME,hang:NAME" crashes or hangs on those files.
    for (const [what, name] of (process.env.FUZZ_SELFTEST ?? '').split(',').map((x) => x.split(':')))
      if (name && file.endsWith(`/${name}`)) {
        if (what === 'crash') process.kill(process.pid, 'SIGKILL');
        if (what === 'hang') await new Promise(() => setInterval(() => undefined, 1000));
      }
    try {
      const r = await lastValueFrom(
        parquetSource([file])
          .batches({ batchRows: 4096 })
          .pipe(
            reduce(
              (acc, b) => {
                acc.rows += b.length;
                acc.schema = b.schema.map(describeField).join(', ');
                for (const f of b.schema) acc.sum = (acc.sum * 7 + checksum(b.columns[f.name].values)) % 1e9;
                return acc;
              },
              { rows: 0, schema: '', sum: 0 },
            ),
          ),
        { defaultValue: { rows: 0, schema: '', sum: 0 } },
      );
      say({ op: 'read', rows: r.rows, schema: `${r.schema} #${r.sum}` });
    } catch (e) {
      say({ op: 'read', error: (e as Error).message });
    }
    try {
      const r = await runSkim({
        inputs: [file],
        cuts: { cuts: [{ column: cut, op: '>', value: 0 }], score: null },
        outDir: out,
      });
      say({ op: 'skim', rows: r.eventsIn, kept: r.eventsKept, written: (await readParquetMeta(r.skimFiles[0])).rows });
    } catch (e) {
      say({ op: 'skim', error: (e as Error).message, leftovers: await readdir(out).catch(() => []) });
    }
  }
}

/**
 * Writes `count` corrupted copies of `valid` into a temp directory and runs them through a
 * worker process, restarting it after a crash or a hang. `cut` is a numeric column of the file.
 */
export async function fuzzParquet(o: {
  valid: string;
  cut: string;
  count: number;
  seed?: string | number;
  timeoutMs?: number;
  keep?: boolean;
}): Promise<FuzzReport> {
  const t0 = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'diffskim-fuzz-'));
  const bytes = new Uint8Array(await readFile(o.valid));
  const jobs = corruptions(bytes.length, o.count, o.seed ?? 1).map((corruption, i) => ({
    file: join(dir, `case${i}.parquet`),
    out: join(dir, `out${i}`),
    corruption,
  }));
  for (const j of jobs) await writeFile(j.file, applyCorruption(bytes, j.corruption));
  const reference = { file: o.valid, out: join(dir, 'out-reference') };
  const results = new Map<string, Outcome>();
  let queue = [reference, ...jobs];
  while (queue.length) {
    const stopped = await runWorker(queue, results, o.cut, o.timeoutMs ?? 10_000);
    if (stopped) results.set(stopped.file, stopped.outcome);
    const left = queue.filter((j) => !results.has(j.file));
    if (left.length === queue.length) throw new Error(`fuzz worker made no progress (stopped before ${queue[0].file})`);
    queue = left;
  }
  const ref = results.get(o.valid);
  if (!Array.isArray(ref) || ref.some((r) => r.error))
    throw new Error(`${o.valid}: the valid file does not read: ${JSON.stringify(ref)}`);
  const cases = jobs.map((j) => ({
    file: j.file,
    corruption: j.corruption,
    ...judge(j.file, results.get(j.file)!, ref),
  }));
  if (!o.keep) await rm(dir, { recursive: true, force: true });
  const counts = Object.fromEntries(['error', 'read', 'read-changed-values', ...FAILURES].map((v) => [v, 0])) as Record<
    Verdict,
    number
  >;
  for (const c of cases) counts[c.verdict]++;
  return { cases, counts, seconds: (performance.now() - t0) / 1000 };
}

/** Both operations' outcomes, or how the worker stopped on the file (with its exit and last stderr). */
type Outcome = OpOutcome[] | { stopped: 'crash' | 'hang'; detail: string };

/** Runs one worker over the queue until it ends, crashes or hangs; returns the file it stopped on. */
function runWorker(
  queue: { file: string; out: string }[],
  results: Map<string, Outcome>,
  cut: string,
  timeoutMs: number,
): Promise<{ file: string; outcome: Outcome } | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--worker'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    let current: string | null = null;
    let ops: OpOutcome[] = [];
    let hung = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => {
          hung = true;
          child.kill('SIGKILL');
        },
        timeoutMs + 10_000 * Number(current === null),
      ); // the first file waits for start-up too
    };
    arm();
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { start?: string } & OpOutcome;
      if (msg.start) {
        current = msg.start;
        ops = [];
      } else {
        ops.push(msg);
        if (ops.length === 2) {
          results.set(current!, ops);
          current = null;
        }
      }
      arm();
    });
    // 'close', not 'exit': every line of stdout has been read by then.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const detail = `the worker ${hung ? `hung (killed after ${timeoutMs} ms)` : `died (exit ${code}, signal ${signal})`} on this file; stderr: ${stderr.trim()}`;
      resolve(current === null ? null : { file: current, outcome: { stopped: hung ? 'hang' : 'crash', detail } });
    });
    for (const j of queue) child.stdin!.write(JSON.stringify({ ...j, cut }) + '\n');
    child.stdin!.end();
  });
}

function judge(file: string, got: Outcome, ref: OpOutcome[]): { verdict: Verdict; detail: string } {
  if (!Array.isArray(got)) return { verdict: got.stopped, detail: got.detail };
  let changed = false;
  for (const [k, r] of got.entries()) {
    const want = ref[k];
    if (r.error !== undefined) {
      if (!r.error.includes(file)) return { verdict: 'error-without-file-name', detail: `${r.op}: ${r.error}` };
      if (r.leftovers?.length)
        return { verdict: 'leftovers', detail: `${r.op} failed and left ${r.leftovers.join(', ')}` };
      continue;
    }
    if (r.rows !== want.rows)
      return { verdict: 'implausible', detail: `${r.op}: ${r.rows} rows, the valid file has ${want.rows}` };
    if (r.op === 'read' && r.schema!.split(' #')[0] !== want.schema!.split(' #')[0])
      return { verdict: 'implausible', detail: `read: schema ${r.schema}` };
    if (r.op === 'skim' && (r.written !== r.kept || r.kept! > r.rows!))
      return { verdict: 'implausible', detail: `skim: kept ${r.kept}, wrote ${r.written} of ${r.rows}` };
    if (r.op === 'read' && r.schema !== want.schema) changed = true;
    if (r.op === 'skim' && r.kept !== want.kept) changed = true;
  }
  const errors = got.filter((r) => r.error !== undefined);
  if (errors.length) return { verdict: 'error', detail: errors.map((r) => `${r.op}: ${r.error}`).join(' | ') };
  return changed
    ? {
        verdict: 'read-changed-values',
        detail: 'read with the right rows and schema, but other values (Parquet pages carry no checksum here)',
      }
    : { verdict: 'read', detail: 'read unchanged' };
}

if (process.argv.includes('--worker')) {
  await worker();
} else if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const seed = flag('--seed') ?? '1';
  const timeoutMs = Number(flag('--timeout-ms') ?? 10_000);
  const cut = flag('--cut');
  const [valid, count = '200'] = args;
  if (!valid || !cut)
    throw new Error('usage: fuzz-parquet.ts VALID.parquet [COUNT] --cut COLUMN [--seed S] [--timeout-ms T]');
  const r = await fuzzParquet({ valid, cut, count: Number(count), seed, timeoutMs, keep: true });
  for (const c of r.cases)
    if (FAILURES.includes(c.verdict))
      console.log(`${c.verdict}: ${c.file} (${JSON.stringify(c.corruption)}): ${c.detail}`);
  console.log(`${r.cases.length} cases in ${r.seconds.toFixed(1)} s:`, r.counts);
  if (FAILURES.some((v) => r.counts[v] > 0)) process.exit(1);
}
