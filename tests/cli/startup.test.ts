import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../..');
const COMMANDS = ['run', 'skim', 'eval', 'serve', 'convert', 'merge', 'submit'];
/** Registering the commands needs commander; nothing else. */
const AT_START = ['commander'];

/**
 * Help loads only what registering the commands needs: each command loads its heavy modules
 * (DuckDB, TF.js, jsroot, Vega, gRPC) in its action. A module resolve hook records every URL that
 * node resolves; the packages among them are compared with package.json's dependencies.
 */
describe('diffskim --help and <command> --help load no command dependency', () => {
  let dir: string;
  let dependencies: string[];
  let logs = 0;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-startup-'));
    await writeFile(
      join(dir, 'hooks.mjs'),
      "import { appendFileSync } from 'node:fs';\n" +
        'export async function resolve(specifier, context, next) {\n' +
        '  const r = await next(specifier, context);\n' +
        "  appendFileSync(process.env.RESOLVED_LOG, r.url + '\\n');\n" +
        '  return r;\n}\n',
    );
    await writeFile(
      join(dir, 'register.mjs'),
      "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n",
    );
    const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    dependencies = Object.keys(pkg.dependencies).filter((d) => d !== 'tsx');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function packagesLoaded(args: string[]): Promise<string[]> {
    const log = join(dir, `${logs++}.log`);
    const env = { ...process.env, RESOLVED_LOG: log };
    await run('node', ['--import', join(dir, 'register.mjs'), join(REPO, 'bin/diffskim.mjs'), ...args], { env }).catch(
      () => {},
    );
    const urls = (await readFile(log, 'utf8')).split('\n');
    return dependencies.filter((d) => urls.some((u) => u.includes(`/node_modules/${d}/`))).sort();
  }

  it.each(['', ...COMMANDS])('diffskim %s --help', async (command) => {
    expect(await packagesLoaded([...(command ? [command] : []), '--help'])).toEqual(AT_START);
  });

  it('a command that runs loads its dependencies (the hook sees them)', async () => {
    const loaded = await packagesLoaded(['convert', join(dir, 'missing.root'), join(dir, 'out.parquet')]);
    expect(loaded).toEqual(expect.arrayContaining(['jsroot', 'parquet-wasm', 'rxjs']));
  });
});
