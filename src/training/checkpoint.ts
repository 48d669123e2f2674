import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadModel, saveModel } from '../model/io.js';
import type { SelectionModel } from '../model/model.js';
import { removeStaleTempFiles, tempPathOf } from '../util/tempFiles.js';
import { writeJsonAtomic } from '../util/atomicWrite.js';
import type { TrainState } from './trainState.js';

/**
 * Training checkpoints that a crash or a bad step cannot corrupt. A checkpoint directory holds
 * one model folder per saved step (`step-000000123-<time>/`, written under `<folder>.tmp-<pid>/` and
 * renamed when complete) and `latest.json`, rewritten atomically to point at the newest one.
 * A kill at any moment leaves latest.json pointing at a complete model folder. A step whose
 * loss or weights are not finite (NaN, ±Inf) is never saved: the previous checkpoint stays.
 * With a training state, the folder also holds state.json and state.bin (its tensors, float32
 * little-endian), from which `diffskim run --resume` goes on.
 */
export interface CheckpointInfo {
  epoch: number;
  step: number;
  loss: number;
}

interface Latest extends CheckpointInfo {
  folder: string;
}

const LATEST = 'latest.json';
/** Model folders kept besides the newest one (for a look back; older ones are removed). */
const KEEP_OLDER = 1;

/** The first non-finite number of the model, in words, or null when all are finite. */
function nonFiniteWeight(model: SelectionModel): string | null {
  for (const [l, layer] of model.layers.entries()) {
    for (const [name, values] of [
      ['kernel', layer.kernel],
      ['bias', layer.bias],
    ] as const) {
      const i = values.findIndex((v) => !Number.isFinite(v));
      if (i >= 0) return `layer ${l} ${name}[${i}] = ${values[i]}`;
    }
  }
  for (const cut of model.cuts)
    for (const key of ['value', 'low', 'high', 'slope'] as const) {
      const v = cut[key];
      if (v !== undefined && !Number.isFinite(v)) return `cut on ${cut.column}: ${key} = ${v}`;
    }
  return null;
}

/**
 * Saves the model as the newest checkpoint in dir, atomically. Returns the reason when the
 * step is not saved (non-finite loss or weights), else null.
 */
export async function saveCheckpoint(
  dir: string,
  model: SelectionModel,
  info: CheckpointInfo,
  state?: TrainState,
): Promise<string | null> {
  if (!Number.isFinite(info.loss)) return `loss is ${info.loss} at step ${info.step}: checkpoint not saved`;
  const bad = nonFiniteWeight(model);
  if (bad) return `${bad} at step ${info.step}: checkpoint not saved`;
  await removeStaleTempFiles(dir);
  // A new folder each time (never one latest.json may point at), sorted by step.
  const folder = `step-${String(info.step).padStart(9, '0')}-${Date.now().toString(36)}`;
  const tmp = tempPathOf(join(dir, folder));
  try {
    await rm(tmp, { recursive: true, force: true });
    await saveModel(tmp, model);
    await writeFile(join(tmp, 'checkpoint.json'), JSON.stringify(info, null, 2) + '\n');
    if (state) await writeState(tmp, state);
    await rename(tmp, join(dir, folder));
    await writeJsonAtomic(join(dir, LATEST), { folder, ...info } satisfies Latest);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw new Error(`${dir}: cannot save checkpoint of step ${info.step}: ${(e as Error).message}`);
  }
  await pruneOlder(dir, folder);
  return null;
}

/** The newest checkpoint in dir (with its training state, when it has one), or null when there is none. */
export async function loadCheckpoint(
  dir: string,
): Promise<{ model: SelectionModel; info: CheckpointInfo; state?: TrainState } | null> {
  const text = await readFile(join(dir, LATEST), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new Error(`${join(dir, LATEST)}: cannot read: ${e.message}`);
  });
  if (text === null) return null;
  let latest: Latest;
  try {
    latest = JSON.parse(text) as Latest;
  } catch (e) {
    throw new Error(`${join(dir, LATEST)}: not valid JSON: ${(e as Error).message}`);
  }
  const model = await loadModel(join(dir, latest.folder));
  const bad = nonFiniteWeight(model);
  if (bad) throw new Error(`${join(dir, latest.folder)}: checkpoint has a non-finite weight (${bad})`);
  const state = await readState(join(dir, latest.folder));
  return { model, info: { epoch: latest.epoch, step: latest.step, loss: latest.loss }, ...(state && { state }) };
}

const STATE = 'state.json';
const STATE_BIN = 'state.bin';

/** JSON has no NaN or ±Inf (a history may hold them): they are written as {"nonFinite": "NaN"}. */
const encodeNonFinite = (_: string, v: unknown) =>
  typeof v === 'number' && !Number.isFinite(v) ? { nonFinite: String(v) } : v;
const decodeNonFinite = (_: string, v: unknown) =>
  v !== null && typeof v === 'object' && Object.keys(v).length === 1 && 'nonFinite' in v
    ? Number((v as { nonFinite: string }).nonFinite)
    : v;

interface TensorEntry {
  name: string;
  /** In float32 values. */
  offset: number;
  length: number;
}

async function writeState(folder: string, state: TrainState): Promise<void> {
  const index: TensorEntry[] = [];
  let offset = 0;
  for (const [name, values] of state.tensors) {
    index.push({ name, offset, length: values.length });
    offset += values.length;
  }
  const bin = Buffer.alloc(offset * 4);
  for (const t of index) state.tensors.get(t.name)!.forEach((v, i) => bin.writeFloatLE(v, (t.offset + i) * 4));
  await writeFile(join(folder, STATE_BIN), bin);
  await writeFile(join(folder, STATE), JSON.stringify({ ...state, tensors: index }, encodeNonFinite) + '\n');
}

async function readState(folder: string): Promise<TrainState | undefined> {
  const path = join(folder, STATE);
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new Error(`${path}: cannot read: ${e.message}`);
  });
  if (text === null) return undefined;
  try {
    const json = JSON.parse(text, decodeNonFinite) as Omit<TrainState, 'tensors'> & { tensors: TensorEntry[] };
    const bin = await readFile(join(folder, STATE_BIN));
    const tensors = new Map<string, Float32Array>();
    for (const t of json.tensors) {
      if ((t.offset + t.length) * 4 > bin.length) throw new Error(`${STATE_BIN} too short for '${t.name}'`);
      tensors.set(
        t.name,
        Float32Array.from({ length: t.length }, (_, i) => bin.readFloatLE((t.offset + i) * 4)),
      );
    }
    return { ...json, tensors };
  } catch (e) {
    throw new Error(`${path}: cannot read the training state: ${(e as Error).message}`);
  }
}

/**
 * Removes the checkpoints of an earlier run in `dir` (training does not resume from them): else
 * they would be pruned as older steps of this run, and latest.json would name the earlier run's
 * model until this run saves one.
 */
export async function clearCheckpoints(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[]))
    if (name === LATEST || /^step-\d+-/.test(name)) await rm(join(dir, name), { recursive: true, force: true });
}

async function pruneOlder(dir: string, newest: string): Promise<void> {
  const folders = (await readdir(dir)).filter((n) => /^step-\d+-[0-9a-z]+$/.test(n) && n !== newest).sort();
  for (const old of folders.slice(0, Math.max(0, folders.length - KEEP_OLDER)))
    await rm(join(dir, old), { recursive: true, force: true });
}
