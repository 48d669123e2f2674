import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Node's recursive mkdir answers ENOENT ("no such file or directory") where the folder cannot be
 * made for another reason: a read-only file system, or no permission on the nearest folder that
 * exists. Such an error is given back naming that folder and the reason; any other as it is.
 */
export function withFsReason(e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err?.code !== 'ENOENT' || err.syscall !== 'mkdir' || !err.path) return e;
  let dir = dirname(err.path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
    return e;
  } catch (a) {
    const code = (a as NodeJS.ErrnoException).code;
    const why = code === 'EROFS' ? 'is on a read-only file system' : `is not writable (${code})`;
    return new Error(`cannot create the folder ${err.path}: ${dir} ${why}`);
  }
}
