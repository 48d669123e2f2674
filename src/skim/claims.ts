import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { tempPathOf, writerAlive } from '../util/tempFiles.js';

/** A path another process holds (see claim): the error names it, the holder and what to do. */
export class ClaimedError extends Error {
  constructor(
    readonly path: string,
    readonly holder: { pid: number; host: string },
    what: string,
  ) {
    super(
      `${path} is being written by process ${holder.pid} on ${holder.host} (${what}); ` +
        'wait for it to end, or write elsewhere',
    );
  }
}

/**
 * An exclusive claim on a path (an output file, a manifest, a run folder's record) against other
 * processes, also on other machines sharing the file system: `<path>.claim`, holding the
 * claimer's process id and host, made complete and then linked into place (a link fails where the
 * name exists, on NFS too; where a file system has no hard links, it is created exclusively and
 * then written). A claim whose holder is gone (as tempFiles.writerAlive decides for temp files)
 * is taken over, so a killed writer blocks no one. Resolves to the release.
 */
export async function claim(path: string, what: string): Promise<() => Promise<void>> {
  const file = `${path}.claim`;
  const me = JSON.stringify({ pid: process.pid, host: hostname(), id: randomBytes(4).toString('hex') });
  const mine = tempPathOf(file);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(mine, me);
  let unreadable = 0;
  try {
    for (;;) {
      if (await take(mine, file, me).then(() => true, ignore('EEXIST'))) break;
      const text = await readFile(file, 'utf8').catch(ignore('ENOENT'));
      if (text === false) continue; // released meanwhile
      const holder = holderOf(text);
      // Unreadable: being written (without hard links); empty for a second, its claimer died.
      if (!holder && ++unreadable < 50) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      if (holder && writerAlive(holder)) throw new ClaimedError(path, holder, what);
      // The holder is gone: move its claim aside (of two processes doing so, one gets it) and
      // make sure what was moved is the dead one, not a claim just taken by a third process.
      const aside = `${mine}.stale`;
      if (!(await rename(file, aside).then(() => true, ignore('ENOENT')))) continue;
      const moved = await readFile(aside, 'utf8');
      if (moved !== text) {
        await link(aside, file).catch(() => undefined);
        await rm(aside, { force: true });
        throw new ClaimedError(path, holderOf(moved) ?? { pid: 0, host: 'unknown' }, what);
      }
      await rm(aside, { force: true });
    }
  } finally {
    await rm(mine, { force: true });
  }
  return async () => {
    if ((await readFile(file, 'utf8').catch(() => null)) === me) await rm(file, { force: true });
  };
}

/** Puts the complete claim `mine` in place as `file`; fails with EEXIST where `file` exists. */
async function take(mine: string, file: string, me: string): Promise<void> {
  try {
    await link(mine, file);
  } catch (e) {
    if (!NO_LINKS.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
    await writeFile(file, me, { flag: 'wx' });
  }
}

const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** The holder a claim names, or null when it is not complete. */
function holderOf(text: string): { pid: number; host: string } | null {
  try {
    return JSON.parse(text) as { pid: number; host: string };
  } catch {
    return null;
  }
}

/** A catch handler that turns the error `code` into false and rethrows any other. */
function ignore(code: string) {
  return (e: NodeJS.ErrnoException): false => {
    if (e.code === code) return false;
    throw e;
  };
}
