import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ColumnChoice, ColumnGateSpec } from './columnGates.js';
import type { CutSpec } from './cuts.js';
import type { DenseLayer, ModelKind, SelectionModel } from './model.js';
import { writeFileAtomic } from '../util/atomicWrite.js';

/**
 * A model folder holds model.json (architecture, standardisation, cuts with their learned
 * thresholds and slopes, backend, and where each weight array sits in weights.bin) and
 * weights.bin (float32, little-endian, kernels row-major [inputs][outputs]).
 */
const FORMAT = 'diffskim-model';
const VERSION = 1;

interface WeightEntry {
  name: string;
  shape: number[];
  /** Offset in float32 values. */
  offset: number;
}

interface ModelJson {
  format: typeof FORMAT;
  version: number;
  kind: ModelKind;
  features: string[];
  standardisation: { mean: number[]; std: number[] };
  hidden: number[];
  activation: 'relu';
  cuts: CutSpec[];
  slopeMultiplier: number;
  backend: string;
  weights: WeightEntry[];
  /**
   * weights.bin's SHA-256 (hex): the two files are written one after the other, so a save killed
   * between them leaves a weights.bin of another model, refused on load. Absent in older files.
   */
  weightsSha256?: string;
  /** Column gates still being trained (a checkpoint's model). */
  gates?: ColumnGateSpec;
  /** The candidate columns the gates kept and dropped (a trained model with column selection). */
  columns?: ColumnChoice;
}

export async function saveModel(dir: string, model: SelectionModel): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries: WeightEntry[] = [];
  const arrays: Float32Array[] = [];
  let offset = 0;
  model.layers.forEach((layer, l) => {
    for (const [name, shape, values] of [
      [`dense${l}/kernel`, [layer.inputs, layer.outputs], layer.kernel],
      [`dense${l}/bias`, [layer.outputs], layer.bias],
    ] as const) {
      entries.push({ name, shape: [...shape], offset });
      arrays.push(values);
      offset += values.length;
    }
  });
  const bin = Buffer.alloc(offset * 4);
  let at = 0;
  for (const a of arrays) for (const v of a) at = bin.writeFloatLE(v, at);
  const json: ModelJson = {
    format: FORMAT,
    version: VERSION,
    kind: model.kind,
    features: model.features,
    standardisation: { mean: model.inputMean, std: model.inputStd },
    hidden: model.hidden,
    activation: 'relu',
    cuts: model.cuts,
    slopeMultiplier: model.slopeMultiplier,
    backend: model.backend,
    weights: entries,
    weightsSha256: sha256(bin),
    ...(model.gates && { gates: model.gates }),
    ...(model.columnChoice && { columns: model.columnChoice }),
  };
  await writeFileAtomic(join(dir, 'weights.bin'), bin);
  await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(json, null, 2) + '\n');
}

export async function loadModel(dir: string): Promise<SelectionModel> {
  const jsonPath = join(dir, 'model.json');
  const binPath = join(dir, 'weights.bin');
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8'));
  } catch (e) {
    throw new Error(`${jsonPath}: cannot read model: ${(e as Error).message}`);
  }
  if (json.format !== FORMAT || json.version !== VERSION)
    throw new Error(`${jsonPath}: not a ${FORMAT} version ${VERSION} file`);
  const bin = await readFile(binPath).catch((e: Error) => {
    throw new Error(`${binPath}: cannot read weights: ${e.message}`);
  });
  if (json.weightsSha256 !== undefined && sha256(bin) !== json.weightsSha256)
    throw new Error(
      `${binPath}: not the weights ${jsonPath} was saved with (their SHA-256 differs: a save stopped between ` +
        'the two files?); save the model again (run the pipeline again, or with --resume)',
    );
  const weight = (name: string, shape: number[]): Float32Array => {
    const entry = json.weights.find((w) => w.name === name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!entry || entry.shape.join() !== shape.join())
      throw new Error(`${jsonPath}: weight '${name}' of shape [${shape}] is missing`);
    if ((entry.offset + n) * 4 > bin.length)
      throw new Error(`${binPath}: too short for weight '${name}' (${bin.length} bytes)`);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = bin.readFloatLE((entry.offset + i) * 4);
    return out;
  };
  const sizes = json.kind === 'cuts' ? [] : [json.features.length, ...json.hidden, 1];
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [inputs, outputs] = [sizes[l], sizes[l + 1]];
    layers.push({
      inputs,
      outputs,
      kernel: weight(`dense${l}/kernel`, [inputs, outputs]),
      bias: weight(`dense${l}/bias`, [outputs]),
    });
  }
  return {
    kind: json.kind,
    features: json.features,
    inputMean: json.standardisation.mean,
    inputStd: json.standardisation.std,
    hidden: json.hidden,
    layers,
    cuts: json.cuts,
    slopeMultiplier: json.slopeMultiplier,
    backend: json.backend,
    ...(json.gates && { gates: json.gates }),
    ...(json.columns && { columnChoice: json.columns }),
  };
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
