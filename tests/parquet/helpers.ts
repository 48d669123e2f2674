import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { concatBatches, type EventBatch } from '../../src/batch/batch.js';

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'diffskim-pq-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs SQL on a private DuckDB (independent of the code under test) and returns JSON rows. */
export async function sql(query: string): Promise<Record<string, unknown>[]> {
  const con = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
  try {
    return (await con.runAndReadAll(query)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    con.closeSync();
  }
}

export async function collect(
  batches: Observable<EventBatch>,
): Promise<{ batches: EventBatch[]; all: EventBatch | null }> {
  const list = await lastValueFrom(batches.pipe(toArray()));
  return { batches: list, all: list.length ? concatBatches(list) : null };
}

/** List column values of event i. */
export function listAt(b: EventBatch, name: string, i: number): number[] {
  const c = b.columns[name];
  if (c.kind !== 'list') throw new Error(`${name} is not a list`);
  return Array.from(c.values.subarray(c.offsets[i], c.offsets[i + 1]) as Float32Array);
}

/** How many of this process's file descriptors are open on `file` (Linux /proc; -1 elsewhere). */
export function openDescriptors(file: string): number {
  if (!existsSync('/proc/self/fd')) return -1;
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false; // closed since the listing
    }
  }).length;
}
