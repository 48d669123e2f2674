import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Every writer (parquetSink, runSkim's COPY, writeFileAtomic, checkpoints) writes
 * `<name>.tmp-<pid>-<random>` and renames it to `<name>` when complete. Such a file is never an
 * output: readers refuse it, and a later run removes it once its writer process is gone. The
 * random part keeps two writers of one name apart: two skims in one server, or two pods of a
 * Kubernetes job (each its own process 1) on a shared volume.
 */
const TEMP_FILE = /^(.+)\.tmp-(\d+)(?:-[0-9a-f]+)?$/;

/** The temporary name a writer of `path` uses until the file is complete (a new one per call). */
export function tempPathOf(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function isTempFile(path: string): boolean {
  return TEMP_FILE.test(basename(path));
}

/** The output a temporary file is for, and the process writing it; null for other names. */
export function tempFileOf(name: string): { output: string; pid: number } | null {
  const m = TEMP_FILE.exec(basename(name));
  return m ? { output: m[1], pid: Number(m[2]) } : null;
}

/** Whether a process with this id runs (on this machine). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temp files (or folders) in dir whose writer process is gone; returns their paths. */
export async function removeStaleTempFiles(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const temp = tempFileOf(name);
    if (!temp || pidAlive(temp.pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}
