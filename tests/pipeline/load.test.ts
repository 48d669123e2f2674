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
    // Left out: the trainer takes enough epochs for its step budget.
    expect(p.training.epochs).toBeUndefined();
    expect(p.training.batchSize).toBe(4096);
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
    expect(() => parsePipeline(`${base}training:\n  batchSize: big\n`, 'p.yaml')).toThrow(
      /^p\.yaml:7: 'training\.batchSize': .*number/,
    );
    expect(() => parsePipeline(`${base}cuts:\n  - { column: x, op: ">=" }\n`, 'p.yaml')).toThrow(
      /^p\.yaml:7: 'cuts\.0\.op'/,
    );
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
  it('refuses combinations that could only fail after training, or would be ignored, naming the line', () => {
    const error = (text: string) => {
      try {
        parsePipeline(text, 'p.yaml');
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    };
    const cutsOnly = `${base}cuts:\n  - column: x\n    op: ">"\nmodel:\n  kind: cuts\n`;
    expect(error(`${cutsOnly}skim:\n  scoreCut: 0.5\n`)).toMatch(
      /^p\.yaml:12: 'skim\.scoreCut': a score cut needs a classifier/,
    );
    expect(error(`${base}cuts:\n  - column: x\n    op: between\n    init: 1\n`)).toMatch(
      /p\.yaml:9: 'cuts\.0\.init': a 'between' cut starts from initLow and initHigh/,
    );
    expect(error(`${base}cuts:\n  - column: x\n    op: between\n    initLow: 2\n    initHigh: 1\n`)).toMatch(
      /'cuts\.0\.initLow': initLow \(2\) must be below initHigh \(1\)/,
    );
    expect(error(`${base}cuts:\n  - column: x\n    op: ">"\n    initLow: 2\n`)).toMatch(
      /initLow and initHigh are for 'between' cuts/,
    );
    expect(error(`${base}loss:\n  size:\n    lambda: 1\n    targetKeptFraction: 0.5\n    targetBytes: 1000\n`)).toMatch(
      /'loss\.size': give targetKeptFraction or targetBytes, not both/,
    );
    // A cuts-only model needs no features; a classifier does.
    expect(parsePipeline(cutsOnly.replace('features: [x, y]\n', ''), 'p.yaml').features).toEqual([]);
    expect(error(base.replace('features: [x, y]\n', ''))).toMatch(
      /'features': model\.kind 'cuts-x-mlp' has a classifier/,
    );
  });
});
