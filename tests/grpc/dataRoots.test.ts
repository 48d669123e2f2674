import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { DataRoots } from '../../src/grpc/dataRoots.js';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'diffskim-roots-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('DataRoots.scrub', () => {
  it('shows server paths relative to their root, also when one root name is the start of another', async () => {
    for (const d of ['hep', 'hep-mc']) mkdirSync(join(base, d));
    const roots = await DataRoots.open([join(base, 'hep'), join(base, 'hep-mc')]);
    expect(
      roots.scrub(`${base}/hep-mc/ttbar/a.parquet: file is empty; ${base}/hep/b.parquet too; root ${base}/hep`),
    ).toBe('ttbar/a.parquet: file is empty; b.parquet too; root .');
  });
});

/** Every file below `dir` with a name ending in `ext`, found by a plain recursive listing (links not followed). */
function filesBelow(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .filter(
      (e) =>
        !relative(dir, join(e.parentPath, e.name))
          .split('/')
          .some((s) => s.startsWith('.')),
    )
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

describe('DataRoots.resolveInputs: patterns expand only inside the roots', () => {
  // root/mc/{a,b}.parquet, root/mc/sub/c.parquet, root/.cache/x.parquet; links: root/out -> a
  // folder outside holding pass.parquet, root/up -> '/', root/mc/sub/back -> root/mc (a cycle).
  const root = join(base, 'patterns');
  const outside = join(base, 'outside');
  for (const f of ['mc/a.parquet', 'mc/b.parquet', 'mc/sub/c.parquet', '.cache/x.parquet', 'mc/notes.txt']) {
    mkdirSync(join(root, f, '..'), { recursive: true });
    writeFileSync(join(root, f), 'x');
  }
  mkdirSync(outside, { recursive: true });
  writeFileSync(join(outside, 'pass.parquet'), 'secret');
  symlinkSync(outside, join(root, 'out'));
  symlinkSync('/', join(root, 'up'));
  symlinkSync(join(root, 'mc'), join(root, 'mc', 'sub', 'back'));
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 'OK',
      (e: { code: number }) => grpc.status[e.code],
    );

  it('a path through a link out of the roots gets one answer, whatever is behind the link', async () => {
    const roots = await DataRoots.open([root]);
    for (const spec of [
      'out/pass*',
      'out/zzqq*',
      'out/pass.parquet',
      'out/zzqq.parquet',
      'out',
      'up/etc/*',
      'up/zzqq/*',
    ])
      expect([spec, await codeOf(roots.resolveInputs([spec]))]).toEqual([spec, 'PERMISSION_DENIED']);
  });

  it("a pattern never follows a link out of the roots: '**' with a link to '/' lists the root's own files, in a bounded walk", async () => {
    // 60 entries are far fewer than '/' holds, and more than the root's own.
    const roots = await DataRoots.open([root], 60);
    const expected = filesBelow(join(root, 'mc'), '.parquet');
    expect(expected).toHaveLength(3);
    expect(await roots.resolveInputs(['**/*.parquet'])).toEqual(expected);
    expect(await roots.resolveInputs(['mc'])).toEqual(expected); // a directory: its *.parquet files, the cycle listed once
    expect(await roots.resolveInputs(['*/*.parquet'])).toEqual(expected.filter((f) => !f.includes('/sub/')));
    const ab = [join(root, 'mc/a.parquet'), join(root, 'mc/b.parquet')];
    expect(await roots.resolveInputs(['mc/{a,c}.parquet', 'mc/[b]*'])).toEqual(ab);
    expect(await roots.resolveInputs(['.cache/*'])).toEqual([join(root, '.cache/x.parquet')]);
    expect(await codeOf(roots.resolveInputs(['mc/zzqq*']))).toBe('NOT_FOUND');
    // A walk that would list more than the bound is refused, not cut short.
    const small = await DataRoots.open([root], 5);
    expect(await codeOf(small.resolveInputs(['**/*.parquet']))).toBe('RESOURCE_EXHAUSTED');
  });

  it("a pattern matching an in-root folder 'd*' beside a link 'dz' out of the roots gives the in-root file only", async () => {
    const r = join(base, 'stars');
    mkdirSync(join(r, 'd*'), { recursive: true });
    writeFileSync(join(r, 'd*', 'pass.parquet'), 'x');
    symlinkSync(outside, join(r, 'dz'));
    const roots = await DataRoots.open([r]);
    for (const spec of ['d[*]/pass.parquet', 'd?/pass.parquet', 'd*/pass.parquet', '**/pass.parquet', '.']) {
      expect([spec, await roots.resolveInputs([spec])]).toEqual([spec, [join(r, 'd*', 'pass.parquet')]]);
    }
  });
});

describe('DataRoots.resolveOutputDir', () => {
  it('refuses a path below a file or through a link to nothing (INVALID_ARGUMENT), or out of the roots', async () => {
    const root = join(base, 'out-root');
    mkdirSync(join(root, 'mc'), { recursive: true });
    writeFileSync(join(root, 'mc', 'a.parquet'), 'x');
    symlinkSync(join(base, 'nowhere', 'new'), join(root, 'dangling'));
    symlinkSync(base, join(root, 'exit'));
    const roots = await DataRoots.open([root]);
    const code = (spec: string) =>
      roots.resolveOutputDir(spec).then(
        (p) => relative(root, p),
        (e: { code: grpc.status; message: string }) => `${grpc.status[e.code]}: ${e.message}`,
      );
    expect(await code('skims/new')).toBe('skims/new');
    expect(await code('mc/a.parquet/x')).toBe(
      "INVALID_ARGUMENT: output_dir 'mc/a.parquet/x': 'mc/a.parquet' is not a directory",
    );
    expect(await code('dangling')).toBe("INVALID_ARGUMENT: output_dir 'dangling': 'dangling' is not a directory");
    expect(await code('dangling/sub')).toBe(
      "INVALID_ARGUMENT: output_dir 'dangling/sub': 'dangling' is not a directory",
    );
    expect(await code('exit/sub')).toBe("PERMISSION_DENIED: path 'exit/sub' leads outside the server's data roots");
  });
});
