import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli } from '../faults/helpers.js';
import { toyPipelineYaml } from '../helpers/toyPipeline.js';

/**
 * Ctrl-C during `diffskim run` on a terminal (a pseudo-terminal from Python's pty module): the
 * progress bar must give the terminal back its cursor and line wrap, the last line must say what
 * was stopped and how to go on, and `--resume` must then finish with the model of a run never
 * stopped.
 */
const PTY_RUN = `
import fcntl, json, os, pty, select, signal, struct, sys, termios, time
watch, cmd = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(cmd[0], cmd)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 24, 120, 0, 0))
out, sent, t0 = b'', False, time.time()
while time.time() - t0 < 300:
    if not sent and os.path.exists(watch):
        os.kill(pid, signal.SIGINT)
        sent = True
    if select.select([fd], [], [], 0.02)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
_, status = os.waitpid(pid, 0)
print(json.dumps({'sent': sent, 'code': os.waitstatus_to_exitcode(status), 'out': out.decode('utf8', 'replace')}))
`;

let dir: string;
const pipeline = () => join(dir, 'toy.yaml');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffskim-interrupt-'));
  await writeFile(
    pipeline(),
    toyPipelineYaml({
      events: 20000,
      training: '{ epochs: 8, batchSize: 1024, learningRate: 0.02, seed: 3, shuffleBuffer: 8192 }',
      loss: '{ kind: bce, size: { lambda: 0.5 } }',
    }),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function ptyRun(watch: string, args: string[]): Promise<{ sent: boolean; code: number; out: string }> {
  return new Promise((resolve, reject) =>
    execFile('python3', ['-c', PTY_RUN, watch, 'node', BIN, ...args], { maxBuffer: 1 << 26 }, (e, stdout) =>
      e ? reject(e) : resolve(JSON.parse(stdout)),
    ),
  );
}

describe('Ctrl-C during diffskim run, then --resume', () => {
  it('restores the terminal, says in one line what stopped and how to go on; --resume: the same model', async () => {
    const out = join(dir, 'stopped');
    // SIGINT as soon as the first checkpoint is there (training then is in its second epoch or later).
    const r = await ptyRun(join(out, 'checkpoints', 'latest.json'), ['run', pipeline(), '--out', out]);
    expect(r.sent).toBe(true);
    expect(r.code).toBe(130);
    // The bar hid the cursor and turned line wrap off; both are turned back on after the last time.
    expect(r.out).toContain('\x1b[?25l');
    expect(r.out.lastIndexOf('\x1b[?25h')).toBeGreaterThan(r.out.lastIndexOf('\x1b[?25l'));
    expect(r.out).toContain('\x1b[?7l');
    expect(r.out.lastIndexOf('\x1b[?7h')).toBeGreaterThan(r.out.lastIndexOf('\x1b[?7l'));
    // eslint-disable-next-line no-control-regex
    const lines = r.out
      .replace(/\x1b(\[[0-9;?]*[A-Za-z]|[78])/g, '')
      .split(/\r?\n|\r/)
      .filter((l) => l.trim());
    expect(lines[lines.length - 1]).toMatch(
      new RegExp(
        '^diffskim: stopped by SIGINT in training epoch \\d of 8 \\(the checkpoint after epoch \\d is kept\\): ' +
          `to go on, run: diffskim run ${pipeline()} --out ${out} --resume$`,
      ),
    );
    expect(lines.filter((l) => l.includes('stopped by'))).toHaveLength(1);

    const resumed = await cli(['run', pipeline(), '--out', out, '--resume']);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    const whole = join(dir, 'whole');
    expect((await cli(['run', pipeline(), '--out', whole])).code).toBe(0);
    for (const file of ['model/weights.bin', 'model/model.json', 'cuts.json']) {
      expect(await readFile(join(out, file))).toEqual(await readFile(join(whole, file)));
    }
  }, 300_000);
});
