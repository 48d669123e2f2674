import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../../src/cli/commands/eval.js';
import { saveModel } from '../../src/model/io.js';
import { sql, tempDir, toyEvents, toyModel, writeParquet } from './helpers.js';

const run = promisify(execFile);
let dir: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await writeParquet(join(dir, 'new.parquet'), toyEvents(3000, 9));
  // A run folder as `diffskim run` leaves it: model/ and cuts.json (here with a score cut).
  await saveModel(join(dir, 'run', 'model'), toyModel());
  await writeFile(
    join(dir, 'run', 'cuts.json'),
    JSON.stringify({ cuts: [{ column: 'x', op: '>', value: 1 }], score: { op: '>', value: 0.5 } }),
  );
});
afterAll(() => cleanup?.());

describe('diffskim eval', () => {
  it('evaluates a run folder with its cuts.json and writes eval.json, plots, report.html and the friend file', async () => {
    const out = join(dir, 'out');
    const friend = join(dir, 'scores.parquet');
    const { stdout } = await run('node', [
      'bin/diffskim.mjs',
      '-q',
      'eval',
      '-m',
      join(dir, 'run'),
      '-i',
      join(dir, 'new.parquet'),
      '-l',
      'label',
      '-o',
      out,
      '--friend',
      friend,
      '--efficiencies',
      '0.6,0.8',
    ]);
    expect(stdout).toMatch(/^events: {6}3000 \(\d+ signal, \d+ background\)/);
    expect(stdout).toMatch(/AUC: {9}0\.\d{4}/);
    expect(stdout).toMatch(/eps_S {2}60\.0%: {2}score >= /);
    const bytesLine = /skim bytes: +([\d.]+ kB) in = ~([\d.]+ kB) kept \+ ~([\d.]+ kB) saved/;
    const [, bytesIn, bytesKept, bytesSaved] = bytesLine.exec(stdout)!;
    expect((await readdir(out)).sort()).toEqual([
      'cut-1-x.png',
      'cut-1-x.svg',
      'eval.json',
      'report.html',
      'roc.png',
      'roc.svg',
      'scores.png',
      'scores.svg',
    ]);
    const e = JSON.parse(await readFile(join(out, 'eval.json'), 'utf8'));
    expect(e.cutsFile).toBe(join(dir, 'run', 'cuts.json'));
    expect(e.sample).toEqual({ split: 'all' });
    expect(Math.abs(parseFloat(bytesIn) - parseFloat(bytesKept) - parseFloat(bytesSaved))).toBeLessThan(0.15);
    expect(parseFloat(bytesIn)).toBeCloseTo(e.savedCuts.bytesIn / 1000, 1);
    const page = await readFile(join(out, 'report.html'), 'utf8');
    expect(page).toMatch(/<th>events evaluated<\/th><td>3,000: every event of the inputs/);
    expect(Number(/<th>AUC<\/th><td>([\d.]+)<\/td>/.exec(page)?.[1])).toBeCloseTo(e.auc, 4);
    expect(e.cutFlow.map((r: { step: string }) => r.step)).toEqual(['all events', 'x > 1', 'score > 0.5']);
    expect(e.workingPoints.map((w: { targetSignalEfficiency: number }) => w.targetSignalEfficiency)).toEqual([
      0.6, 0.8,
    ]);
    expect(e.plots).toEqual(['roc.png', 'scores.png', 'cut-1-x.png']);
    const [{ n, kept }] = await sql(`SELECT count(*) AS n, sum(passes::INT) AS kept FROM read_parquet('${friend}')`);
    expect(Number(n)).toBe(3000);
    expect(Number(kept)).toBe(e.savedCuts.eventsKept);
  });

  it('explains what is missing', async () => {
    await expect(parse(['eval', '-m', dir, '-i', join(dir, 'new.parquet')])).rejects.toThrow(
      /no model.json here or in .*model/,
    );
    await expect(parse(['eval', '-m', join(dir, 'run'), '-i', 'x.parquet', '--efficiencies', '0.5,2'])).rejects.toThrow(
      /expected comma-separated fractions in \(0, 1\], got '0.5,2'/,
    );
  });

  it('has help with defaults and examples', async () => {
    let help = '';
    const command = newProgram().commands.find((c) => c.name() === 'eval')!;
    command.configureOutput({ writeOut: (text) => (help += text) }).outputHelp();
    expect(help).toMatch(/Usage: diffskim eval \[options\]/);
    expect(help).toMatch(/--out <dir>\s+output folder \(default: "eval"\)/);
    expect(help).toMatch(/\(default: 0.5,0.7,0.9\)/);
    expect(help).toMatch(/Examples:\n\s+\$ diffskim eval --model/);
  });
});

/** The eval command in a program of its own, run in this process; errors are thrown, not printed. */
function newProgram(): Command {
  const program = new Command('diffskim').exitOverride().configureOutput({ writeErr: () => undefined });
  register(program);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

function parse(args: string[]): Promise<Command> {
  return newProgram().parseAsync(['node', 'diffskim', ...args]);
}
