import { featureScales } from './columnGates.js';
import type { SelectionModel } from './model.js';

/**
 * The gates made hard choices: the features of dropped columns leave the model (their rows of
 * the first layer go), the others keep their test-time gate folded into the first layer's
 * weights (the input (x - mean) / std times g is the same as the row of weights times g). The
 * result is a plain model that reads only the kept columns, with the choice recorded.
 */
export function hardenGates(model: SelectionModel): SelectionModel {
  const gates = model.gates;
  if (!gates) return model;
  const scales = featureScales(model.features, gates);
  const kept = model.features.map((_, j) => j).filter((j) => scales[j] > 0);
  const [first, ...rest] = model.layers;
  const kernel = new Float32Array(kept.length * first.outputs);
  kept.forEach((j, r) => {
    for (let o = 0; o < first.outputs; o++)
      kernel[r * first.outputs + o] = first.kernel[j * first.outputs + o] * scales[j];
  });
  const open = new Set(kept.flatMap((j) => gates.featureGates[j]));
  const keptColumns = gates.columns.filter((_, c) => open.has(c));
  const { gates: _, ...plain } = model;
  return {
    ...plain,
    features: kept.map((j) => model.features[j]),
    inputMean: kept.map((j) => model.inputMean[j]),
    inputStd: kept.map((j) => model.inputStd[j]),
    layers: [{ ...first, inputs: kept.length, kernel }, ...rest],
    columnChoice: {
      candidates: gates.columns,
      kept: keptColumns,
      dropped: gates.columns.filter((c) => !keptColumns.includes(c)),
    },
  };
}
