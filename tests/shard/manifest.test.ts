import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openManifest, readManifest, skimFingerprint, writeManifest } from '../../src/skim/shard/manifest.js';
import { skimResumable } from '../../src/skim/shard/resumableSkim.js';
import { CUTS, makeRun, skimDifference } from './helpers.js';
import { runSkim } from '../../src/skim/runSkim.js';

let dir: string;
let inputs: string[];
const cuts = () => structuredClone(CUTS) as never;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffskim-manifest-'));
  ({ inputs } = await makeRun(dir, 3));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('skimResumable (an unsharded run with a manifest)', () => {
  it('records each file, skips finished ones on a re-run and redoes an interrupted one', async () => {
    const out = join(dir, 'out');
    const manifestPath = join(out, 'manifest.json');
    const done: string[] = [];
    const first = await skimResumable({
      inputs,
      cuts: cuts(),
      outDir: out,
      manifestPath,
      onFile: (e, skipped) => done.push(`${skipped ? 'skip' : 'skim'} ${e.output}`),
    });
    expect(done).toEqual(['skim f0.skim.parquet', 'skim f1.skim.parquet', 'skim f2.skim.parquet']);
    const m = (await readManifest(manifestPath))!;
    expect(m.entries.map((e) => e.input)).toEqual(inputs);
    expect(m.entries[1].outputBytes).toBe((await stat(join(out, 'f1.skim.parquet'))).size);

    // killed while writing f1: its entry is not in the manifest yet, a temp file is left over
    await writeManifest(manifestPath, { ...m, entries: m.entries.filter((e) => !e.output.startsWith('f1')) });
    await writeFile(join(out, 'f1.skim.parquet.tmp-777'), 'partial');
    done.length = 0;
    const second = await skimResumable({
      inputs,
      cuts: cuts(),
      outDir: out,
      manifestPath,
      onFile: (e, skipped) => done.push(`${skipped ? 'skip' : 'skim'} ${e.output}`),
    });
    expect(done).toEqual(['skip f0.skim.parquet', 'skim f1.skim.parquet', 'skip f2.skim.parquet']);
    expect(second.map((e) => e.eventsKept)).toEqual(first.map((e) => e.eventsKept));
    expect((await readdir(out)).filter((n) => n.includes('.tmp-'))).toEqual([]);

    const ref = join(dir, 'ref');
    await runSkim({ inputs, cuts: cuts(), outDir: ref });
    expect((await skimDifference(out, ref)).differ).toBe(0);
  });

  it('refuses a manifest of other settings and explains a corrupt one', async () => {
    const path = join(dir, 'm.json');
    await writeManifest(path, { version: 1, fingerprint: skimFingerprint({ cuts: cuts() }), entries: [] });
    await expect(openManifest(path, skimFingerprint({ cuts: cuts(), codec: 'zstd' }))).rejects.toThrow(
      /other cuts\/keep\/codec settings/,
    );
    expect(skimFingerprint({ cuts: cuts(), keep: ['met'] })).not.toBe(skimFingerprint({ cuts: cuts() }));
    await writeFile(path, '{"version": 1, "fingerp');
    await expect(readManifest(path)).rejects.toThrow(/m\.json: manifest is not valid JSON .*delete it/);
    expect(await readManifest(join(dir, 'absent.json'))).toBeNull();
  });
});
