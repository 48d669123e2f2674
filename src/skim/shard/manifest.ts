import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CutsFile } from '../../selection/cutsFile.js';
import { writeJsonAtomic } from '../../util/atomicWrite.js';

/**
 * The manifest of a resumable skim: one entry per input whose skim file is complete. It is
 * rewritten (atomically) after each file, so a run killed at any point leaves a manifest that
 * lists exactly the files finished before the kill; a re-run skips those and redoes the rest.
 */
export interface ManifestEntry {
  /** Absolute input path. */
  input: string;
  inputBytes: number;
  inputMtimeMs: number;
  /**
   * The input's status change time: a file rewritten or replaced changes it, even where its size
   * and modification time are kept (cp -p, rsync -t). Absent in manifests of earlier versions.
   */
  inputCtimeMs?: number;
  /** Skim file, relative to the output directory (src/skim/outputPaths.ts). */
  output: string;
  outputBytes: number;
  eventsIn: number;
  eventsKept: number;
  bytesSavedByColumns: number;
  rowGroupsTotal: number;
  rowGroupsSkipped: number;
  bytesNeverRead: number;
  seconds: number;
}

export interface SkimManifest {
  version: 1;
  /** skimFingerprint of the settings the entries were made with. */
  fingerprint: string;
  entries: ManifestEntry[];
}

/** A hash of everything that changes a skim file's content, so a manifest is never reused across settings. */
export function skimFingerprint(s: {
  cuts: CutsFile;
  keep?: string[];
  codec?: string;
  score?: { id?: string };
}): string {
  const json = JSON.stringify({
    cuts: s.cuts,
    keep: s.keep ?? null,
    codec: s.codec ?? null,
    model: s.score?.id ?? null,
  });
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

/** The manifest at path, or null when there is none yet. */
export async function readManifest(path: string): Promise<SkimManifest | null> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new Error(`${path}: cannot read manifest: ${e.message}`);
  });
  if (text === null) return null;
  let m: SkimManifest;
  try {
    m = JSON.parse(text) as SkimManifest;
  } catch (e) {
    throw new Error(
      `${path}: manifest is not valid JSON (${(e as Error).message}); delete it to redo this part of the run`,
    );
  }
  if (m.version !== 1 || typeof m.fingerprint !== 'string' || !Array.isArray(m.entries))
    throw new Error(`${path}: not a diffskim manifest (version 1 with fingerprint and entries)`);
  return m;
}

/** A folder that holds a skim of other cuts, keep or codec settings: a skim into it is refused. */
export class OtherSettingsError extends Error {}

/** The manifest at path for these settings: empty when absent; an error when made with other settings. */
export async function openManifest(path: string, fingerprint: string): Promise<SkimManifest> {
  const m = await readManifest(path);
  if (!m) return { version: 1, fingerprint, entries: [] };
  if (m.fingerprint !== fingerprint)
    throw new OtherSettingsError(
      `${path} was written with other cuts/keep/codec settings (fingerprint ${m.fingerprint}, now ${fingerprint}); use a fresh output directory, or delete the old skim first`,
    );
  return m;
}

export function writeManifest(path: string, m: SkimManifest): Promise<void> {
  return writeJsonAtomic(path, m);
}

/**
 * Why an entry can no longer be trusted (input changed since, skim file missing or of another
 * size), or null when it is still complete.
 */
export async function staleReason(e: ManifestEntry, outDir: string): Promise<string | null> {
  const input = await stat(e.input).catch(() => null);
  if (!input) return `input ${e.input} is gone`;
  const ctimeChanged = e.inputCtimeMs !== undefined && input.ctimeMs !== e.inputCtimeMs;
  if (input.size !== e.inputBytes || input.mtimeMs !== e.inputMtimeMs || ctimeChanged)
    return `input ${e.input} changed since it was skimmed`;
  const outPath = join(outDir, e.output);
  const output = await stat(outPath).catch(() => null);
  if (!output) return `skim file ${outPath} is missing`;
  if (output.size !== e.outputBytes)
    return `skim file ${outPath} has ${output.size} bytes, the manifest says ${e.outputBytes}`;
  return null;
}

/** Adds or replaces the entry for e.input. */
export function withEntry(m: SkimManifest, e: ManifestEntry): SkimManifest {
  return { ...m, entries: [...m.entries.filter((x) => x.input !== e.input), e] };
}
