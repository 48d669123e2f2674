import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipeline, parsePipeline } from '../../src/pipeline/load.js';

const base = `name: t
source:
  kind: parquet
  paths: [a.parquet]
features: [x, y]
`;

describe('pipeline files', () => {
  it('fills defaults for what a file leaves out', () => {
    const p = parsePipeline(base, 'p.yaml');
    expect(p.model.hidden).toEqual([15, 30, 15]);
    expect(p.loss.kind).toBe('bce');
    expect(p.cuts).toEqual([]);
    expect(p.training.epochs).toBeGreaterThan(0);
  });

  it('names the line and key of every wrong key, with the nearest right key', () => {
    const text = `${base}traning:
  epochs: 3
training:
  epoch: 5
cuts:
  - column: x
    op: ">"
    slop: 3
`;
    const message = (() => {
      try {
        parsePipeline(text, 'p.yaml');
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(message).toContain("p.yaml:6: unknown key 'traning' (did you mean 'training'?)");
    expect(message).toContain("p.yaml:9: unknown key 'training.epoch' (did you mean 'epochs'?)");
    expect(message).toContain("p.yaml:13: unknown key 'cuts.0.slop' (did you mean 'slope'?)");
  });

  it('names the line of a value of the wrong type, and of a bad enum value', () => {
    expect(() => parsePipeline(`${base}training:\n  batchSize: big\n`, 'p.yaml')).toThrow(/^p\.yaml:7: 'training\.batchSize': .*number/);
    expect(() => parsePipeline(`${base}cuts:\n  - { column: x, op: ">=" }\n`, 'p.yaml')).toThrow(/^p\.yaml:7: 'cuts\.0\.op'/);
  });

  it('gives no suggestion when nothing is near, and reports YAML syntax errors with a line', () => {
    expect(() => parsePipeline(`${base}zzzzzzzz: 1\n`, 'p.yaml')).toThrow(/unknown key 'zzzzzzzz'$/);
    expect(() => parsePipeline(`${base}cuts: [\n`, 'p.yaml')).toThrow(/^p\.yaml:\d+: YAML syntax error/);
  });

  it('accepts every pipeline shipped in pipelines/', async () => {
    const files = (await readdir('pipelines')).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) await expect(loadPipeline(join('pipelines', f))).resolves.toHaveProperty('name');
  });
});
