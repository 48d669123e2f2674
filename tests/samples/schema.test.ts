import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../src/pipeline/load.js';

const sample = (name: string, role: string, extra = '') =>
  `  - { name: ${name}, role: ${role}, xsec: 1.5, source: { kind: parquet, paths: [${name}/] }${extra} }\n`;
const samples = `name: t
luminosity: 1000
features: [x]
samples:
${sample('sig', 'signal')}${sample('bkg', 'background', ', factors: [sf], genWeight: w')}`;

describe('pipeline files: samples', () => {
  it('reads a samples list with its defaults', () => {
    const p = parsePipeline(samples, 'p.yaml');
    expect(p.samples!.map((s) => [s.name, s.role, s.process, s.genWeight, s.factors])).toEqual([
      ['sig', 'signal', undefined, undefined, []],
      ['bkg', 'background', undefined, 'w', ['sf']],
    ]);
    expect(p.source).toBeUndefined();
  });

  it.each([
    [
      'samples and a source',
      `${samples}source: { kind: parquet, paths: [a.parquet] }\n`,
      /'source': give 'source'.*or 'samples', not both/,
    ],
    [
      'no luminosity',
      samples.replace('luminosity: 1000\n', ''),
      /'luminosity': samples are normalised to a luminosity/,
    ],
    ['a label column', `${samples}label: y\n`, /'label': with samples, each sample's role is its label.*drop 'label'/],
    ['a weight column', `${samples}weight: w\n`, /'weight': with samples.*drop 'weight'/],
    [
      'two samples of one name',
      `${samples}${sample('sig', 'background')}`,
      /p\.yaml:\d+: 'samples\.2\.name': two samples are named 'sig'/,
    ],
    ['no background sample', samples.replace('role: background', 'role: signal'), /training needs a background sample/],
    [
      'a name that is no folder name',
      samples.replace('name: sig', 'name: a/b'),
      /'samples\.0\.name': a sample name is a folder name/,
    ],
    [
      'sumGenWeights and runs',
      samples.replace('xsec: 1.5, source', 'xsec: 1.5, sumGenWeights: 3, runs: [r.parquet], source'),
      /give sumGenWeights or runs, not both/,
    ],
    [
      'a sum of weights of 0',
      samples.replace('xsec: 1.5, source', 'xsec: 1.5, sumGenWeights: 0, source'),
      /sum of generator weights of 0/,
    ],
    [
      'a luminosity without samples',
      'name: t\nsource: { kind: parquet, paths: [a.parquet] }\nlabel: y\nfeatures: [x]\nluminosity: 3\n',
      /'luminosity': luminosity normalises 'samples'/,
    ],
    ['neither source nor samples', 'name: t\nfeatures: [x]\n', /'source': say where events come from/],
    [
      'an unknown sample key',
      samples.replace('xsec: 1.5', 'xsex: 1.5'),
      /unknown key 'samples\.0\.xsex' \(did you mean 'xsec'\?\)/,
    ],
  ])('refuses %s, naming the file, line and key', (_, text, message) => {
    expect(() => parsePipeline(text, 'p.yaml')).toThrow(message);
  });
});
