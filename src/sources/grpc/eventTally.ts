import type { EventBatch } from '../../batch/batch.js';
import { InputError } from '../inputError.js';
import type { DatasetInfo } from '../types.js';

/**
 * Checks that a pass without cuts delivers every event of the dataset once: each batch must
 * continue its file where the previous one ended (a repeated or skipped stretch is an error at
 * once), and at the end each file must have given the rows its server's Describe counts (a stream
 * ended early with status OK would otherwise be a short read). `stream` names the call in errors.
 */
export class EventTally {
  private readonly perFile = new Map<string, number>();
  private total = 0;

  constructor(private readonly stream: string) {}

  add(batch: EventBatch): void {
    this.total += batch.length;
    const o = batch.origin;
    if (!o?.file) return;
    const seen = this.perFile.get(o.file) ?? 0;
    if (o.firstRow !== undefined && o.firstRow !== seen) {
      const what = o.firstRow < seen ? 'repeats' : 'skips';
      throw new InputError(
        'unreadable',
        `${this.stream}: a batch of '${o.file}' starts at row ${o.firstRow}, but ${seen} rows of it had come: ` +
          `the stream ${what} events`,
      );
    }
    this.perFile.set(o.file, seen + batch.length);
  }

  /** At the end of the stream: every file's rows (or, without origins, the dataset's) came. */
  check(info: Pick<DatasetInfo, 'files' | 'rows'>): void {
    const short = (got: number, rows: number, of: string) =>
      new InputError(
        'unreadable',
        `${this.stream}: the stream brought ${got} events of ${of}, where the server's Describe counts ${rows}`,
      );
    if (this.perFile.size > 0) {
      for (const f of info.files) {
        const got = this.perFile.get(f.path) ?? 0;
        if (got !== f.rows) throw short(got, f.rows, `'${f.path}'`);
      }
      const unknown = [...this.perFile.keys()].find((p) => !info.files.some((f) => f.path === p));
      if (unknown !== undefined)
        throw new InputError(
          'unreadable',
          `${this.stream}: the stream sent events of '${unknown}', a file its Describe does not list`,
        );
    }
    if (this.total !== info.rows) throw short(this.total, info.rows, 'the dataset');
  }
}
