import { Adam } from '../model/adam.js';
import { FusedSelectionModel } from '../model/fused.js';
import { type LossSettings, stepScale } from '../model/losses.js';
import type { SelectionModel } from '../model/model.js';
import type { Stepper, StepResult } from './stepper.js';

/** The fused model and its Adam: the update, and the Stepper methods that do not step. */
export class FusedState {
  readonly fm: FusedSelectionModel;
  private adam: Adam;

  constructor(
    model: SelectionModel,
    private readonly learningRate: number,
    private readonly backend: string,
  ) {
    this.fm = new FusedSelectionModel(model);
    this.adam = new Adam(this.fm.params.length, learningRate);
  }

  /**
   * Applies Adam to a step's gradient, scaled by the settings' stepScale (the size constraint's
   * 1 / (1 + mu)); null (nothing applied) when the loss or gradient is not finite.
   */
  apply(settings: LossSettings, r: StepResult, gradient: Float64Array): StepResult | null {
    let norm2 = 0;
    for (const g of gradient) norm2 += g * g;
    // Finite in float32, as the TF.js step checks it.
    if (!Number.isFinite(r.total) || !Number.isFinite(Math.fround(norm2))) return null;
    const scale = stepScale(settings);
    if (scale !== 1) for (let k = 0; k < gradient.length; k++) gradient[k] *= scale;
    this.adam.apply(this.fm.params, gradient);
    return r;
  }

  methods(): Pick<Stepper, 'snapshot' | 'iterations' | 'tensors' | 'restore' | 'dispose'> {
    const { fm } = this;
    const views = (flat: Float32Array) =>
      fm.tensors().map((t) => flat.subarray(t.byteOffset / 4, t.byteOffset / 4 + t.length));
    return {
      snapshot: (multiplier) => fm.snapshot(multiplier, this.backend),
      iterations: () => this.adam.iterations,
      tensors: () => {
        const { adam } = this;
        const out = new Map<string, Float32Array>();
        fm.tensors().forEach((t, i) => out.set(`param/${i}`, t.slice()));
        out.set('adam/beta1^t', Float32Array.of(adam.beta1Power));
        out.set('adam/beta2^t', Float32Array.of(adam.beta2Power));
        for (const [kind, flat] of [
          ['m', adam.m],
          ['v', adam.v],
        ] as const)
          views(flat).forEach((t, i) => out.set(`adam/${kind}/${i}`, t.slice()));
        return out;
      },
      restore: (iterations, saved) => {
        const get = (name: string, size: number): Float32Array => {
          const values = saved.get(name);
          if (values?.length !== size) throw new Error(`tensor '${name}' is missing or not of size ${size}`);
          return values;
        };
        fm.tensors().forEach((t, i) => t.set(get(`param/${i}`, t.length)));
        const adam = (this.adam = new Adam(fm.params.length, this.learningRate));
        adam.beta1Power = get('adam/beta1^t', 1)[0];
        adam.beta2Power = get('adam/beta2^t', 1)[0];
        adam.iterations = iterations;
        for (const [kind, flat] of [
          ['m', adam.m],
          ['v', adam.v],
        ] as const)
          views(flat).forEach((t, i) => t.set(get(`adam/${kind}/${i}`, t.length)));
      },
      dispose: () => {},
    };
  }
}
