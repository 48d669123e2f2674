import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleOutputPaths } from '../../src/skim/outputPaths.js';
import { InputError } from '../../src/sources/inputError.js';

const found = (root: string, ...files: string[]) => files.map((f) => ({ path: join(root, f), root, searched: true }));

describe('sampleOutputPaths', () => {
  it("puts each sample's files below its own folder, so same-named files of two samples stay apart", () => {
    const outputs = sampleOutputPaths([
      { name: 'ttH', found: found('/d/ttH', 'nano_1.parquet', '2018/nano_1.parquet') },
      { name: 'ttbar', found: found('/e/tt', 'nano_1.parquet', 'x.root') },
    ]);
    expect(outputs).toEqual([
      ['ttH/nano_1.skim.parquet', 'ttH/2018/nano_1.skim.parquet'],
      ['ttbar/nano_1.skim.parquet', 'ttbar/x.skim.parquet'],
    ]);
  });

  it('refuses, before any work, two samples whose folders would be one on a case-insensitive disk', () => {
    const twins = [
      { name: 'ttH', found: found('/d/a', 'nano_1.parquet') },
      { name: 'tth', found: found('/d/b', 'nano_1.parquet') },
    ];
    expect(() => sampleOutputPaths(twins)).toThrow(InputError);
    expect(() => sampleOutputPaths(twins)).toThrow("samples 'ttH' and 'tth' would share the skim folder tth/");
  });

  it('refuses two inputs of one sample that would write one file, naming both', () => {
    const clash = [{ name: 'WJets', found: [...found('/d/a', 'nano_1.parquet'), ...found('/d/b', 'nano_1.parquet')] }];
    expect(() => sampleOutputPaths(clash)).toThrow(/inputs \/d\/a\/nano_1.parquet and \/d\/b\/nano_1.parquet/);
  });
});
