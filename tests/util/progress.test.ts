import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/util/progress.js';

/** A non-TTY stream that keeps what is written: progress goes out as JSON lines. */
function jsonLines() {
  const lines: Record<string, unknown>[] = [];
  const stream = { isTTY: false, write: (s: string) => (lines.push(JSON.parse(s)), true) } as unknown as NodeJS.WriteStream;
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

  it('writes nothing when quiet', () => {
    const { lines, stream } = jsonLines();
    const p = createProgress({ stage: 'skim', stream, quiet: true, intervalMs: 0 });
    p.advance(5);
    p.setTotal(5);
    p.done();
    expect(lines).toEqual([]);
  });
});
