import type { Observable, Subscription } from 'rxjs';
import { type EventBatch, selectColumns } from '../batch/batch.js';
import type { Field, Schema } from '../batch/schema.js';
import { columnsOf, namesToRead } from '../selection/expr/index.js';
import { Demand } from '../sources/demand.js';
import { fromPull } from '../sources/parquetStream.js';
import type { ColumnType, DatasetInfo, EventSource, ReadOptions } from '../sources/types.js';
import { seededRandom } from '../util/random.js';
import { isWeighted, type ResolvedSample, sampleColumns, sampleEvents } from './sample.js';

/**
 * Columns the mix adds to every batch: the event's label (1 signal, 0 background), its weight
 * (normalisation x genWeight x factors, signed) and the index of its sample in the samples list.
 * Training and evaluation read them as a label and a weight column.
 */
export const MIX_LABEL = '__label';
export const MIX_WEIGHT = '__weight';
export const MIX_SAMPLE = '__sample';
const MIX_FIELDS: Field[] = [
  { name: MIX_LABEL, type: 'uint8', list: false, nullable: false },
  { name: MIX_WEIGHT, type: 'float64', list: false, nullable: false },
  { name: MIX_SAMPLE, type: 'uint16', list: false, nullable: false },
];

/** Events per batch read from each sample: small enough that a shuffle buffer holds batches of several samples. */
const MIX_BATCH_ROWS = 8192;

/**
 * Sample reads open at once. An open Parquet read holds its row group's decoded pages (~0.4 MB a
 * column read in scripts/bench-samples-memory.ts; on one thread: see mixedSource), so with every
 * sample open memory grew with their number. Past this many, the read least recently drawn from
 * is closed and resumed at its next event when drawn again (ReadOptions.startRow; DuckDB skips the
 * row groups before it). 8, not fewer: each resumed draw is a new query (5-20 ms), and with 2 open
 * reads the mix trained 1.4-2.4x slower than with every read open (README, Samples); 8 keeps an
 * analysis of up to 8 samples at full speed and caps the rest.
 */
const MIX_OPEN_READS = 8;

/** What the open reads may decode ahead of the mix, together, in MB: one plain read's (DuckDB's default, ~1 MB). */
const MIX_READ_AHEAD_MB = 1;

/**
 * The samples as one event source, deterministic for a seed: each pass reads every sample's
 * batches in one order drawn by a seeded generator, the next batch from sample i with probability
 * proportional to the events it has left, so that every stretch of the stream holds the samples in
 * proportion to their sizes (and a train/validation split by event index splits each sample alike).
 * Memory: at most `openReads` sample reads open, each with one batch waiting (its read paused until
 * the mix takes it); a pass with cuts (`where`), or over a source that cannot resume mid-way, keeps
 * every sample's read open. Batches hold the columns asked for (those every sample has; see
 * describe) and the MIX_* columns.
 */
export function mixedSource(samples: ResolvedSample[], seed: number, openReads = MIX_OPEN_READS): EventSource {
  const info = mergedInfo(samples);
  return {
    describe: async () => info,
    batches(options: ReadOptions = {}): Observable<EventBatch> {
      const wanted = (options.columns ?? info.schema.map((f) => f.name)).filter((c) => !isMixColumn(c));
      checkShared(samples, info, wanted);
      // Several samples: each read decodes on one thread (it holds one row group, not one per DuckDB
      // thread: the mix takes from one read at a time anyway), and the open reads share one read's read-ahead.
      const open = Math.min(samples.length, Math.max(1, openReads));
      const several: ReadOptions = samples.length > 1 ? { oneThread: true, readAheadMB: MIX_READ_AHEAD_MB / open } : {};
      return fromPull(async function* () {
        const random = seededRandom(`mix:${seed}`);
        const left = samples.map((s) => s.info.rows);
        const slots = samples.map((s) => {
          const needed = [...new Set([...wanted, ...sampleColumns(s).flatMap((q) => namesToRead(s.info.schema, q))])];
          // Asked for the MIX_* columns alone, an unweighted sample reads its cheapest column to count its events.
          const columns = needed.length ? needed : [cheapestColumn(s.info)];
          const read = { ...options, columns, batchRows: options.batchRows ?? MIX_BATCH_ROWS, ...several };
          // Without cuts the events taken locate the next one, where a closed read resumes.
          const resumable = s.opened.source.startsAnywhere === true && !options.where?.length;
          return new Slot((demand, startRow) => s.opened.source.batches({ ...read, demand, startRow }), resumable);
        });
        const recent: Slot[] = []; // open resumable reads, least recently drawn from first
        try {
          for (;;) {
            const k = pick(left, random);
            if (k < 0) return;
            const slot = slots[k];
            if (slot.resumable) {
              if (recent.includes(slot)) recent.splice(recent.indexOf(slot), 1);
              else if (recent.length >= open) recent.shift()!.close();
              recent.push(slot);
            }
            const batch = await slot.take();
            if (!batch) {
              left[k] = 0;
              slot.close();
              continue;
            }
            left[k] = Math.max(0, left[k] - batch.length);
            if (batch.length > 0) yield withMixColumns(samples[k], k, batch, wanted);
          }
        } finally {
          for (const slot of slots) slot.close();
        }
      }, options.demand);
    },
  };
}

export function isMixColumn(name: string): boolean {
  return MIX_FIELDS.some((f) => f.name === name);
}

/** A sample's batch with the columns asked for and its labels, weights and sample index. */
function withMixColumns(s: ResolvedSample, index: number, batch: EventBatch, wanted: string[]): EventBatch {
  const { label, weight } = sampleEvents(s, batch);
  const out = selectColumns(batch, wanted);
  const w = weight ?? new Float64Array(batch.length).fill(1);
  return {
    ...out,
    schema: [...out.schema, ...MIX_FIELDS],
    columns: {
      ...out.columns,
      [MIX_LABEL]: { kind: 'flat', values: label },
      [MIX_WEIGHT]: { kind: 'flat', values: w },
      [MIX_SAMPLE]: { kind: 'flat', values: new Uint16Array(batch.length).fill(index) },
    },
  };
}

/** The index of the sample to read next, with probability proportional to `left`; -1 when all are done. */
function pick(left: number[], random: () => number): number {
  const total = left.reduce((s, n) => s + n, 0);
  if (total <= 0) return -1;
  let u = random() * total;
  let last = -1;
  for (let k = 0; k < left.length; k++) {
    if (left[k] <= 0) continue;
    last = k;
    u -= left[k];
    if (u < 0) return k;
  }
  return last; // rounding left u at 0
}

/** The flat column of fewest bytes on disk. */
function cheapestColumn(info: DatasetInfo): string {
  const flat = info.schema.filter((f) => !f.list);
  const bytes = (name: string) => info.columnBytes[name] ?? Infinity;
  return (flat.length ? flat : info.schema).reduce((a, b) => (bytes(b.name) < bytes(a.name) ? b : a)).name;
}

/**
 * The samples' dataset as one: files, rows and bytes added up; the columns every sample has with
 * one type (the others cannot share a batch), and the MIX_* columns. Bytes per column are summed
 * over the samples, so the size term's bytes per event are the samples' mean.
 */
function mergedInfo(samples: ResolvedSample[]): DatasetInfo {
  const infos = samples.map((s) => s.info);
  const sameField = (a: Field, b: Field | undefined) => b !== undefined && a.type === b.type && a.list === b.list;
  const schema: Schema = infos[0].schema
    .filter((f) =>
      infos.every((i) =>
        sameField(
          f,
          i.schema.find((g) => g.name === f.name),
        ),
      ),
    )
    .map((f) => ({ ...f, nullable: infos.some((i) => i.schema.find((g) => g.name === f.name)!.nullable) }));
  const unsupported: ColumnType[] = (infos[0].unsupported ?? []).filter((u) =>
    infos.every((i) => i.unsupported?.some((v) => v.name === u.name && v.type === u.type)),
  );
  const sum = (of: (i: DatasetInfo) => Record<string, number>, names: string[]) =>
    Object.fromEntries(names.map((n) => [n, infos.reduce((s, i) => s + (of(i)[n] ?? 0), 0)]));
  const names = [...schema.map((f) => f.name), ...unsupported.map((u) => u.name)];
  return {
    files: infos.flatMap((i) => i.files),
    schema: [...schema, ...MIX_FIELDS],
    rows: infos.reduce((s, i) => s + i.rows, 0),
    bytesOnDisk: infos.reduce((s, i) => s + i.bytesOnDisk, 0),
    columnBytes: sum((i) => i.columnBytes, names),
    columnValues: sum((i) => i.columnValues, names),
    unsupported,
  };
}

/** A column asked of the mix that some sample lacks, or has with another type: an error naming both. */
function checkShared(samples: ResolvedSample[], info: DatasetInfo, wanted: string[]): void {
  for (const column of wanted.flatMap((c) => columnsOf(info.schema, c))) {
    if (info.schema.some((f) => f.name === column)) continue;
    const fields = samples.map((s) => s.info.schema.find((f) => f.name === column));
    const lacking = fields.findIndex((f) => !f);
    if (lacking >= 0) throw new Error(`sample '${samples[lacking].name}' has no column '${column}'`);
    const type = (f: Field) => `${f.list ? 'list<' : ''}${f.type}${f.list ? '>' : ''}`;
    const other = fields.findIndex((f) => !(f!.type === fields[0]!.type && f!.list === fields[0]!.list));
    throw new Error(
      `column '${column}' is ${type(fields[0]!)} in sample '${samples[0].name}' but ${type(fields[other]!)} in ` +
        `sample '${samples[other].name}'; samples trained together need one type per column`,
    );
  }
}

/**
 * One sample's pass, paused after each batch until the mix takes it: at most one batch waits. Opened
 * when first taken from; a resumable one may be closed (its waiting batch dropped) and is then
 * reopened at the first event not yet taken.
 */
class Slot {
  private demand = new Demand();
  private subscription: Subscription | undefined;
  private batch: EventBatch | undefined;
  private done = false;
  private failed: { error: unknown } | undefined;
  private wake: (() => void) | undefined;
  /** Events taken from this pass. */
  private taken = 0;

  constructor(
    private readonly read: (demand: Demand, startRow: number | undefined) => Observable<EventBatch>,
    readonly resumable: boolean,
  ) {}

  private open(): void {
    const settle = () => {
      const w = this.wake;
      this.wake = undefined;
      w?.();
    };
    this.demand = new Demand();
    const demand = this.demand;
    this.subscription = this.read(demand, this.resumable ? this.taken : undefined).subscribe({
      next: (b) => {
        demand.hold();
        this.batch = b;
        settle();
      },
      error: (error: unknown) => {
        this.failed = { error };
        settle();
      },
      complete: () => {
        this.done = true;
        settle();
      },
    });
  }

  /** The sample's next batch, or null at its end. */
  async take(): Promise<EventBatch | null> {
    if (!this.subscription && !this.done) this.open();
    while (!this.batch && !this.done && !this.failed) await new Promise<void>((r) => (this.wake = r));
    if (this.failed) throw this.failed.error;
    const b = this.batch;
    if (!b) return null;
    this.batch = undefined;
    this.taken += b.length;
    this.demand.release();
    return b;
  }

  close(): void {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    this.batch = undefined;
  }
}
