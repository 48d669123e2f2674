import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Every writer (parquetSink, runSkim's COPY, writeFileAtomic, checkpoints) writes
 * `<name>.tmp-<pid>-<random>.<host>` and renames it to `<name>` when complete. Such a file is
 * never an output: readers refuse it, and a later run removes it once its writer is gone. The
 * random part keeps two writers of one name apart (two skims in one server); the host tells
 * whether the writer's process id can be checked here: on a shared volume, every Kubernetes pod
 * is its own process 1, and another machine's process ids mean nothing here.
 */
const TEMP_FILE = /^(.+)\.tmp-(\d+)(?:-[0-9a-f]+)?(?:\.([^/]+))?$/;

/** The temporary name a writer of `path` uses until the file is complete (a new one per call). */
export function tempPathOf(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}.${hostname()}`;
}

export function isTempFile(path: string): boolean {
  return TEMP_FILE.test(basename(path));
}

/** The output a temporary file is for, and the process (and host) writing it; null for other names. */
export function tempFileOf(name: string): { output: string; pid: number; host?: string } | null {
  const m = TEMP_FILE.exec(basename(name));
  return m ? { output: m[1], pid: Number(m[2]), ...(m[3] && { host: m[3] }) } : null;
}

/**
 * Whether the writer of a temporary file may still be writing it: its process runs, on this
 * host. A writer on another host is taken as gone: a skim run (or shard of one) must not run on
 * two machines at once, and its retry (a new pod, a requeued job) then cleans up after it.
 */
export function writerAlive(temp: { pid: number; host?: string }): boolean {
  return (temp.host === undefined || temp.host === hostname()) && pidAlive(temp.pid);
}

/** Whether a process with this id runs (on this machine). */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temp files (or folders) in dir whose writer is gone (only those of `output`, a file
 * name in dir, when given); returns their paths.
 */
export async function removeStaleTempFiles(dir: string, output?: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const temp = tempFileOf(name);
    if (!temp || (output !== undefined && temp.output !== output) || writerAlive(temp)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(join(dir, name));
  }
  return removed;
}
