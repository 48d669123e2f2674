import { spawnSync } from 'node:child_process';

/**
 * Tests that spawn bin/diffskim.mjs, and the test of the package's exports, run dist/: it is
 * built first when src/ has changed since the last build, so that they test the current source.
 */
export default function setup(): void {
  const { status } = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' });
  if (status !== 0) throw new Error('npm run build failed: the tests need dist/ built from the current src/');
}
