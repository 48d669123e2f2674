import { concat, lastValueFrom, of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { makeBatch } from '../../src/batch/batch.js';
import { progress } from '../../src/operators/progress.js';
import { createProgress } from '../../src/util/progress.js';

/** A non-TTY stream that keeps what is written: progress goes out as JSON lines. */
function jsonLines() {
  const lines: Record<string, unknown>[] = [];
  const stream = {
    isTTY: false,
    write: (s: string) => (lines.push(JSON.parse(s)), true),
  } as unknown as NodeJS.WriteStream;
  return { lines, stream };
}

describe('progress as JSON lines (not a TTY)', () => {
  it('reports events against the estimate, then against the exact total once set', () => {
    const { lines, stream } = jsonLines();
    const p = createProgress({ stage: 'train', total: 100, stream, intervalMs: 0 });
    p.advance(30);
    p.setTotal(120);
    p.advance(90, { epoch: 1 });
    p.done({ auc: 0.9 });
    expect(lines.map((l) => [l.status, l.events, l.total])).toEqual([
      ['running', 30, 100],
      ['running', 120, 120],
      ['done', 120, 120],
    ]);
    expect(lines[1].epoch).toBe(1);
    expect(lines[2]).toMatchObject({ stage: 'train', auc: 0.9 });
  });

  it('marks an estimated total (a random split) and ends on the count, which may pass it', () => {
    const { lines, stream } = jsonLines();
    const p = createProgress({ stage: 'eval', total: 50, estimated: true, stream, intervalMs: 0 });
    p.advance(60);
    p.done();
    expect(lines.map((l) => [l.status, l.events, l.total, l.totalEstimated])).toEqual([
      ['running', 60, 50, true],
      ['done', 60, 60, undefined],
    ]);
  });

  it('the progress operator ends the display when its stream fails, as when it completes', async () => {
    const { lines, stream } = jsonLines();
    const failing = concat(
      of(makeBatch({ x: Float64Array.of(1, 2) }, { x: 'float64' })),
      throwError(() => new Error('read failed')),
    );
    await expect(
      lastValueFrom(failing.pipe(progress(createProgress({ stage: 'eval', stream, intervalMs: 0 })))),
    ).rejects.toThrow('read failed');
    expect(lines.map((l) => [l.status, l.events])).toEqual([
      ['running', 2],
      ['failed', 2],
    ]);
  });

  it('writes nothing when quiet', () => {
    const { lines, stream } = jsonLines();
    const p = createProgress({ stage: 'skim', stream, quiet: true, intervalMs: 0 });
    p.advance(5);
    p.setTotal(5);
    p.done();
    expect(lines).toEqual([]);
  });
});
