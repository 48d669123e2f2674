import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { concatBatches } from '../../src/batch/batch.js';
import { PipelineSchema } from '../../src/pipeline/schema.js';
import { valuesOf } from '../../src/selection/expr/index.js';
import { rootSource } from '../../src/sources/rootSource.js';
import { NANO } from './reference.js';

const FILE = resolve('pipelines/nanoaod-skim.yaml');

describe('pipelines/nanoaod-skim.yaml', () => {
  it('is a valid pipeline whose every column reads from the NanoAOD file', async () => {
    const p = PipelineSchema.parse(parse(readFileSync(FILE, 'utf8')));
    const source = p.source;
    if (source?.kind !== 'root') throw new Error('expected a ROOT source');
    expect(p.cuts.map((c) => c.column)).toEqual(['MET_pt', 'first(Jet_pt)']);
    // The pipeline names the file beside the checkout (../shared); read the same file wherever it is here.
    const paths = source.paths.map((x) => resolve(dirname(FILE), x));
    expect(paths.map((x) => basename(x))).toEqual([basename(NANO)]);
    if (!existsSync(paths[0])) paths[0] = NANO;
    const columns = [...new Set([p.label!, ...p.features, ...p.cuts.map((c) => c.column), ...p.skim.keep!])];
    const b = concatBatches(
      await lastValueFrom(rootSource(paths, { tree: source.tree }).batches({ columns }).pipe(toArray())),
    );
    expect(b.length).toBe(200);
    const signal = valuesOf(b, p.label!).reduce((s, v) => s + v, 0);
    expect(signal).toBeGreaterThan(10);
    expect(signal).toBeLessThan(190);
    // Features must be finite for the classifier; cut variables may be NaN (no jet fails the cut).
    for (const f of p.features) expect(valuesOf(b, f).every(Number.isFinite), f).toBe(true);
    expect(valuesOf(b, 'first(Jet_pt)').filter(Number.isNaN).length).toBeGreaterThan(0);
  });
});
