import { seededRandom } from '../util/random.js';
import type { ColumnChoice, ColumnGateSpec } from './columnGates.js';
import type { CutSpec } from './cuts.js';

/**
 * The selection model as plain data: what is saved, reloaded, scored in JS and turned into
 * cuts.json. The TF.js twin used for training lives in tfModel.ts.
 *
 *   P(x) = prod_k w_k(x) * sigmoid(MLP(standardised x))      ('cuts-x-mlp')
 *   P(x) = sigmoid(MLP(standardised x))                     ('mlp')
 *   P(x) = prod_k w_k(x)                                     ('cuts')
 *
 * The sigmoid is applied to the MLP alone: normalising the product (softmax) would push the
 * cut thresholds towards -infinity.
 */
export type ModelKind = 'cuts-x-mlp' | 'mlp' | 'cuts';

/** A dense layer; kernel is row-major [inputs][outputs]. */
export interface DenseLayer {
  inputs: number;
  outputs: number;
  kernel: Float32Array;
  bias: Float32Array;
}

export interface SelectionModel {
  kind: ModelKind;
  /** Classifier inputs (columns or derived quantities). */
  features: string[];
  /** Standardisation of the inputs: (x - mean) / std. A NaN input is replaced by its mean. */
  inputMean: number[];
  inputStd: number[];
  hidden: number[];
  /** Hidden layers (ReLU) then the output layer (one unit, no activation). Empty for 'cuts'. */
  layers: DenseLayer[];
  /** Empty for 'mlp'. */
  cuts: CutSpec[];
  /** Global slope multiplier the model was last trained with. */
  slopeMultiplier: number;
  /** TF.js backend that trained it. */
  backend: string;
  /** Column gates on the classifier's inputs, while they are trained (columnGates.ts). */
  gates?: ColumnGateSpec;
  /** Which candidate columns the gates kept, once hardened (hardenGates.ts). */
  columnChoice?: ColumnChoice;
}

export function hasMlp(model: { kind: ModelKind }): boolean {
  return model.kind !== 'cuts';
}

export function hasCuts(model: { kind: ModelKind }): boolean {
  return model.kind !== 'mlp';
}

export interface NewModelOptions {
  kind: ModelKind;
  features: string[];
  inputMean: number[];
  inputStd: number[];
  hidden: number[];
  cuts: CutSpec[];
  seed: number;
  backend?: string;
  gates?: ColumnGateSpec;
}

/** A fresh model: Glorot-uniform kernels from a seeded generator, zero biases. */
export function createModel(o: NewModelOptions): SelectionModel {
  if (o.inputMean.length !== o.features.length || o.inputStd.length !== o.features.length) {
    throw new Error(
      `model: ${o.features.length} features but ${o.inputMean.length} means and ${o.inputStd.length} standard deviations`,
    );
  }
  const random = seededRandom(`model:${o.seed}`);
  const layers: DenseLayer[] = [];
  if (hasMlp(o)) {
    const sizes = [o.features.length, ...o.hidden, 1];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const [inputs, outputs] = [sizes[l], sizes[l + 1]];
      const limit = Math.sqrt(6 / (inputs + outputs));
      const kernel = new Float32Array(inputs * outputs);
      for (let i = 0; i < kernel.length; i++) kernel[i] = (2 * random() - 1) * limit;
      layers.push({ inputs, outputs, kernel, bias: new Float32Array(outputs) });
    }
  }
  return {
    kind: o.kind,
    features: o.features,
    inputMean: o.inputMean,
    inputStd: o.inputStd,
    hidden: hasMlp(o) ? o.hidden : [],
    layers,
    cuts: hasCuts(o) ? o.cuts : [],
    slopeMultiplier: 1,
    backend: o.backend ?? 'none',
    ...(o.gates && { gates: o.gates }),
  };
}
