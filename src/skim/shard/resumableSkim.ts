import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { claim } from '../claims.js';
import { outputsOf } from '../outputPaths.js';
import { isRootFile, skimRootFile } from '../rootSkim.js';
import { runSkim } from '../runSkim.js';
import {
  openManifest,
  skimFingerprint,
  staleReason,
  withEntry,
  writeManifest,
  type ManifestEntry,
} from './manifest.js';
import type { SkimSpec } from '../spec.js';

/** A skim (src/skim/spec.ts) recorded file by file in a manifest. */
export interface ResumableSkimOptions extends SkimSpec {
  /** Where the manifest lives (e.g. DIR/manifest.json, or DIR/shards/I-of-N/manifest.json). */
  manifestPath: string;
  /** Events done so far in this call (skipped files do not count). */
  onProgress?: (eventsDone: number) => void;
  /** After each input: skipped (already complete) or skimmed now. */
  onFile?: (entry: ManifestEntry, skipped: boolean) => void;
}

/**
 * Skims inputs one file at a time with runSkim (a ROOT file: streamed, src/skim/rootSkim.ts),
 * recording each finished file in the manifest.
 * Files the manifest already lists as complete (same input size, mtime and ctime, skim file present
 * with its recorded size) are skipped; any other file is (re)done (runSkim removes the temp files
 * a killed earlier attempt left behind). The manifest is claimed for the whole call (src/skim/claims.ts):
 * a second skim of it at the same time is refused, and one of other settings, or that would leave
 * skim files of other inputs beside its own, is refused too. Returns the entries of all inputs, in
 * input order.
 */
export async function skimResumable(o: ResumableSkimOptions): Promise<ManifestEntry[]> {
  const release = await claim(o.manifestPath, 'another skim into this folder');
  try {
    return await skimClaimed(o);
  } finally {
    await release();
  }
}

async function skimClaimed(o: ResumableSkimOptions): Promise<ManifestEntry[]> {
  const outputs = outputsOf(o);
  let manifest = await openManifest(o.manifestPath, skimFingerprint(o));
  const foreign = manifest.entries.find((e) => !outputs.includes(e.output));
  if (foreign)
    throw new Error(
      `${o.manifestPath} records ${join(o.outDir, foreign.output)}, the skim of ${foreign.input}, ` +
        `which is not an input of this run: its report would not list it; ` +
        `use another output folder, or delete ${o.outDir} to start over`,
    );
  let eventsDone = 0;
  const entries: ManifestEntry[] = [];
  for (const [i, input] of o.inputs.entries()) {
    const output = outputs[i];
    const old = manifest.entries.find((e) => e.input === input);
    if (old && old.output === output && (await staleReason(old, o.outDir)) === null) {
      entries.push(old);
      o.onFile?.(old, true);
      continue;
    }
    const before = await stat(input).catch((e: Error) => {
      throw new Error(`${input}: cannot read input: ${e.message}`);
    });
    const settings = { cuts: o.cuts, outDir: o.outDir, keep: o.keep, codec: o.codec, score: o.score, signal: o.signal };
    const r = isRootFile(input)
      ? await skimRootFile(input, output, settings)
      : await runSkim({
          ...settings,
          inputs: [input],
          outputs: [output],
          footers: o.footers?.filter((m) => m.path === input),
          onProgress: (p) => o.onProgress?.(eventsDone + p.eventsDone),
        });
    const f = r.files[0];
    eventsDone += f.eventsIn;
    const entry: ManifestEntry = {
      input,
      inputBytes: before.size,
      inputMtimeMs: before.mtimeMs,
      inputCtimeMs: before.ctimeMs,
      output,
      outputBytes: f.bytesOut,
      eventsIn: f.eventsIn,
      eventsKept: f.eventsKept,
      bytesSavedByColumns: r.bytesSavedByColumns,
      rowGroupsTotal: r.rowGroupsTotal,
      rowGroupsSkipped: r.rowGroupsSkipped,
      bytesNeverRead: r.bytesNeverRead,
      seconds: r.seconds,
    };
    manifest = withEntry(manifest, entry);
    await writeManifest(o.manifestPath, manifest);
    entries.push(entry);
    o.onFile?.(entry, false);
  }
  return entries;
}
