import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toolMissing } from '../helpers/tools.js';
import { sql } from '../parquet/helpers.js';
import { cli } from './helpers.js';

/**
 * An output folder on a read-only file system (a real read-only tmpfs; needs root and mount(8)):
 * Node's recursive mkdir says ENOENT, "no such file or directory"; the command names the folder
 * that is read-only instead.
 */
const base = mkdtempSync(join(tmpdir(), 'diffskim-readonly-'));
const disk = join(base, 'disk');
mkdirSync(disk);
const mounted = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', disk], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
afterAll(() => {
  if (mounted) execFileSync('umount', [disk]);
  rmSync(base, { recursive: true, force: true });
});

const noMount = toolMissing('a read-only tmpfs (root and mount(8))', mounted ? null : 'mount -t tmpfs failed');

describe.skipIf(noMount)('an output folder on a read-only file system', () => {
  it('skim names the read-only folder (not ENOENT), exit 1, no stack trace', async () => {
    const input = join(base, 'in.parquet');
    await sql(`COPY (SELECT i::DOUBLE AS x FROM range(100) t(i)) TO '${input}' (FORMAT parquet)`);
    const cuts = join(base, 'cuts.json');
    writeFileSync(cuts, JSON.stringify({ cuts: [{ column: 'x', op: '>', value: 50 }], score: null }));
    const skim = await cli(['skim', '--input', input, '--cuts', cuts, '--output', join(disk, 'out', 'skim')]);
    expect(skim.code).toBe(1);
    expect(skim.stderr).toBe(
      `diffskim: error: cannot create the folder ${join(disk, 'out')}: ${disk} is on a read-only file system\n`,
    );
  });
});
