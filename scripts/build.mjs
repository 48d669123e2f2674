// `npm run build` (run by `npm ci` through `prepare`): compiles src/ to dist/ (ESM, declarations,
// source maps) from scratch, then records the build (bin/buildState.mjs) so that a later edit of
// src/ is noticed. A failed compile leaves no record: dist/ then counts as not built. With
// --if-stale it does nothing when dist/ is up to date.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildState, ROOT, STAMP, sourceFiles } from '../bin/buildState.mjs';

if (process.argv.includes('--if-stale') && buildState().current) process.exit(0);

const startedMs = Date.now();
const files = sourceFiles();
rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const { status } = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
if (status !== 0) {
  process.stderr.write('build: tsc failed; dist/ is incomplete and the CLI runs the sources through tsx\n');
  process.exit(status ?? 1);
}
writeFileSync(STAMP, JSON.stringify({ startedMs, files }) + '\n');
