import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');

/**
 * bin/diffskim.mjs in a copy of the project's skeleton: dist/cli/main.js and src/cli/main.ts each
 * print which of them ran, so the test sees which one the bin chose and what it said on stderr.
 */
describe('bin/diffskim.mjs runs dist/ only when it is up to date with src/', () => {
  let dir: string;
  const cli = () => run('node', [join(dir, 'bin/diffskim.mjs')]);
  /** What `npm run build` records: when it started and the sources it compiled. */
  const stamp = (startedMs: number, files = ['src/cli/main.ts', 'src/util/a.ts']) =>
    writeFile(join(dir, 'dist/build.json'), JSON.stringify({ startedMs, files }));
  const age = (path: string, msAgo: number) =>
    utimes(join(dir, path), (Date.now() - msAgo) / 1000, (Date.now() - msAgo) / 1000);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-build-'));
    for (const d of ['bin', 'dist/cli', 'src/cli', 'src/util']) await mkdir(join(dir, d), { recursive: true });
    for (const f of ['diffskim.mjs', 'buildState.mjs']) await copyFile(join(REPO, 'bin', f), join(dir, 'bin', f));
    await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    await writeFile(join(dir, 'dist/cli/main.js'), "console.log('dist');\n");
    await writeFile(join(dir, 'src/cli/main.ts'), "console.log('src' as string);\n");
    await writeFile(join(dir, 'src/util/a.ts'), 'export const a = 1;\n');
    for (const f of ['tsconfig.json', 'tsconfig.build.json']) await writeFile(join(dir, f), '{}\n');
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    for (const f of ['src/cli/main.ts', 'src/util/a.ts', 'tsconfig.json', 'tsconfig.build.json']) await age(f, 60_000);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('runs dist/ silently when nothing changed since the build', async () => {
    await stamp(Date.now() - 30_000);
    expect(await cli()).toEqual({ stdout: 'dist\n', stderr: '' });
  });

  it('runs src/ through tsx, saying why, when dist/ is not built', async () => {
    const r = await cli();
    expect(r.stdout).toBe('src\n');
    expect(r.stderr).toMatch(
      /^diffskim: running src\/ through tsx .*dist\/ is not built; npm run build compiles it\n$/,
    );
  });

  it('runs src/ when a source or a tsconfig changed since the build started', async () => {
    await stamp(Date.now() - 30_000);
    for (const f of ['src/util/a.ts', 'tsconfig.build.json']) {
      await age(f, 10_000);
      const r = await cli();
      expect(r.stdout).toBe('src\n');
      expect(r.stderr).toContain(`${f} changed since the build`);
      await age(f, 60_000);
    }
    expect((await cli()).stdout).toBe('dist\n');
  });

  it('runs src/ when a source was added or removed since the build', async () => {
    await stamp(Date.now() - 30_000);
    await writeFile(join(dir, 'src/util/b.ts'), 'export const b = 1;\n');
    await age('src/util/b.ts', 60_000); // an old file copied in still counts
    expect(await cli()).toMatchObject({ stdout: 'src\n', stderr: expect.stringContaining('files added or removed') });
    await rm(join(dir, 'src/util/b.ts'));
    await rm(join(dir, 'src/util/a.ts'));
    expect(await cli()).toMatchObject({ stdout: 'src\n', stderr: expect.stringContaining('files added or removed') });
  });
});
