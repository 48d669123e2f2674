import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** User + system CPU seconds of a process so far (Linux /proc; clock ticks of 1/100 s). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak and current resident memory of a process, in MB (Linux /proc). */
export function rss(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN) / 1024;
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

/** A gRPC server in a child process started with `argv`; resolves with its address once it says 'listening on'. */
export async function startServerProcess(argv: string[]): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'pipe'] });
  const address = await new Promise<string>((ok, fail) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (\S+:\d+)/.exec(err);
      if (m) ok(m[1].replace(/;$/, ''));
    });
    child.on('exit', (code) => fail(new Error(`server exited (${code}): ${err}`)));
  });
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`  [server] ${d}`));
  return { child, address };
}

export async function stopServerProcess(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
