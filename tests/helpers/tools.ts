import { it } from 'vitest';

/**
 * Tests that need an outside tool (SLURM, Chromium, a tmpfs mount, Debian's python3 packages).
 * `missing` says why the tool cannot be used, or is null when it can. On a developer's machine a
 * missing tool skips those tests with a warning; with CI=true it fails the run, since a test that
 * never runs cannot fail. Returns whether the caller should skip.
 */
export function toolMissing(tool: string, missing: string | null): boolean {
  if (missing === null) return false;
  if (process.env.CI === 'true') {
    it(`has ${tool} (required with CI=true)`, () => {
      throw new Error(`${tool} is needed by these tests and missing: ${missing}; .ci/run installs it`);
    });
  } else {
    console.warn(`skipping the tests that need ${tool}: ${missing}`);
  }
  return true;
}
