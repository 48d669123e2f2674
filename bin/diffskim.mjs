#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm run build`, which `npm ci` runs) when it is up to
// date with src/; otherwise the TypeScript sources through tsx, saying why on stderr, so that an
// edit not yet built is never run stale.
import { buildState } from './buildState.mjs';

const state = buildState();
if (state.current) {
  await import('../dist/cli/main.js');
} else {
  process.stderr.write(`diffskim: running src/ through tsx (slower start): ${state.why}; npm run build compiles it\n`);
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
