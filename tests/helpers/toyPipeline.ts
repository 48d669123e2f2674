/**
 * The seed toy's pipeline file, as the end-to-end tests write it: the toy2d dataset (written to
 * toy.parquet beside the file on first use), features x and y, a cut on each. `training` and
 * `loss` are YAML flow mappings; `more` adds lines (a skim section, say); `source` replaces the
 * generated Parquet source (a gRPC one).
 */
export function toyPipelineYaml(o: {
  events?: number;
  training: string;
  loss?: string;
  more?: string;
  source?: string;
}): string {
  const source = o.source ?? `{ kind: parquet, paths: [toy.parquet], generate: toy2d, generateEvents: ${o.events} }`;
  const lines = [
    'name: toy',
    `source: ${source}`,
    'label: label',
    'weight: weight',
    'features: [x, y]',
    'cuts: [{ column: x, op: ">" }, { column: y, op: ">" }]',
    `training: ${o.training}`,
    ...(o.loss ? [`loss: ${o.loss}`] : []),
    ...(o.more ? [o.more] : []),
  ];
  return `${lines.join('\n')}\n`;
}
