import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withRunFolder } from '../../src/pipeline/runFolder.js';
import { sql, tempDir } from '../parquet/helpers.js';
import { cli } from '../shard/helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const pipelineText = (epochs: number, paths: string) => `name: toy
source: { kind: parquet, paths: [${paths}], generate: toy2d, generateEvents: 2000 }
label: label
features: [x, y]
cuts: [{ column: x, op: ">" }]
training: { epochs: ${epochs}, batchSize: 1024, seed: 3 }
`;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'a.yaml'), pipelineText(2, 'data/toy.parquet'));
  await writeFile(join(dir, 'b.yaml'), pipelineText(3, 'data/toy.parquet'));
  await writeFile(join(dir, 'tree.yaml'), pipelineText(2, 'data'));
});
afterAll(() => cleanup());

const marker = (out: string) => () => writeFile(join(out, 'work-done'), '');

describe('the run folder of diffskim run', () => {
  it('lets the same run in again, and refuses a run of other settings, naming the folder and the fix', async () => {
    const out = join(dir, 'runs', 'a');
    await withRunFolder(join(dir, 'a.yaml'), out, marker(out));
    await withRunFolder(join(dir, 'a.yaml'), out, marker(out)); // a re-run (or resumed run) of the same pipeline
    await expect(withRunFolder(join(dir, 'b.yaml'), out, marker(join(out, 'never')))).rejects.toThrow(
      `${out} holds a run of other pipeline settings (${join(dir, 'a.yaml')}); use another --out, or delete ${out}`,
    );
    // the CLI refuses it before any training
    const r = await cli(['run', join(dir, 'b.yaml'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${out} holds a run of other pipeline settings`);
    expect((await readdir(out)).sort()).toEqual(['run.json', 'work-done']);
  });

  it('refuses a folder that holds files of no run, and one inside the folder its inputs are searched in', async () => {
    const other = join(dir, 'other');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'mine');
    await expect(withRunFolder(join(dir, 'a.yaml'), other, marker(other))).rejects.toThrow(
      `${other} is not empty (notes.txt) and holds no diffskim run`,
    );
    const file = join(other, 'notes.txt');
    await expect(withRunFolder(join(dir, 'a.yaml'), file, marker(other))).rejects.toThrow(
      `--out ${file} is a file, not a folder`,
    );
    const inside = join(dir, 'data', 'run');
    const r = await cli(['run', join(dir, 'tree.yaml'), '--out', inside]);
    expect(r.code).toBe(1);
    const why = `the run folder ${inside} is inside ${join(dir, 'data')}, where the pipeline's input 'data' is`;
    expect(r.stderr).toContain(why);
    // The same folder through a symbolic link (the next run would read its skim as input all the same).
    await mkdir(join(dir, 'data', 'runs'));
    await symlink(join(dir, 'data', 'runs'), join(dir, 'runs-link'));
    const linked = join(dir, 'runs-link', 'r');
    await expect(withRunFolder(join(dir, 'tree.yaml'), linked, marker(linked))).rejects.toThrow(
      `the run folder ${linked} is inside ${join(dir, 'data')}, where the pipeline's input 'data' is searched`,
    );
    expect(await readdir(join(dir, 'data', 'runs'))).toEqual([]);
  });

  it('takes a file named alone as no searched folder, though its name holds glob characters', async () => {
    // A real data tree's names: 'd [x] *?/a [1] b.parquet' is a file, not a pattern whose root is dir.
    await mkdir(join(dir, 'd [x] *?'));
    await sql(`COPY (SELECT 1.0 AS x) TO '${join(dir, 'd [x] *?', 'a [1] b.parquet')}' (FORMAT parquet)`);
    await writeFile(join(dir, 'literal.yaml'), pipelineText(2, '"d [x] *?/a [1] b.parquet"'));
    const out = join(dir, 'literal-run');
    await withRunFolder(join(dir, 'literal.yaml'), out, marker(out));
    expect(await readdir(out)).toContain('work-done');
    // Where no such file is, the same spec is a pattern, and a run folder below its root is refused.
    await writeFile(join(dir, 'pattern.yaml'), pipelineText(2, '"d [x] *?/none [1].parquet"'));
    const below = join(dir, 'pattern-run');
    await expect(withRunFolder(join(dir, 'pattern.yaml'), below, marker(below))).rejects.toThrow(
      `the run folder ${below} is inside ${dir}, where the pipeline's input 'd [x] *?/none [1].parquet' is searched`,
    );
  });

  it("refuses a skim or an eval into a run's folder or its skim folder, whose outputs they would replace", async () => {
    const out = join(dir, 'runs', 'guarded');
    await withRunFolder(join(dir, 'a.yaml'), out, async () => {
      await mkdir(join(out, 'skim'));
      await writeFile(join(out, 'report.json'), '{}');
    });
    const input = join(dir, 'in.parquet');
    await sql(`COPY (SELECT range::DOUBLE AS x FROM range(10)) TO '${input}' (FORMAT parquet)`);
    await writeFile(
      join(dir, 'cuts.json'),
      JSON.stringify({ cuts: [{ column: 'x', op: '>', value: 5 }], score: null }),
    );
    const listing = async () => (await readdir(out, { recursive: true })).sort();
    const before = await listing();
    for (const [args, target] of [
      [['skim', '--cuts', join(dir, 'cuts.json'), '--input', input, '--output', out], 'the folder'],
      [
        ['skim', '--cuts', join(dir, 'cuts.json'), '--input', input, '--output', join(out, 'skim', 'x')],
        'in the skim folder',
      ],
      [['eval', '--model', out, '--input', input, '--label', 'x', '--out', out], 'the folder'],
    ]) {
      const r = await cli(args as string[]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        ` is ${target} of the diffskim run ${out} (run.json), whose outputs this would replace`,
      );
    }
    expect(await listing()).toEqual(before);
    const asFile = await cli(['skim', '--cuts', join(dir, 'cuts.json'), '--input', input, '--output', input]);
    expect(asFile.stderr).toContain(`--output ${input} is a file, not a folder`);
    // A folder of its own below the run's is fine.
    expect(
      (await cli(['skim', '--cuts', join(dir, 'cuts.json'), '--input', input, '--output', join(out, 'x')])).code,
    ).toBe(0);
  });

  it('refuses a second run into the folder while one runs', async () => {
    const out = join(dir, 'runs', 'busy');
    let second: unknown;
    await withRunFolder(join(dir, 'a.yaml'), out, async () => {
      second = await withRunFolder(join(dir, 'a.yaml'), out, marker(out)).catch((e: Error) => e.message);
    });
    expect(second).toMatch(new RegExp(`${join(out, 'run.json')} is being written by process ${process.pid}`));
  });
});
