/**
 * Starting a QEMU process that outlives virtkit: detached (own session), stdin closed, stdout/stderr
 * appended to the domain's log file, not kept alive by Node's event loop. The monitor socket is made
 * 0600 as soon as it exists (its folder is 0700 already). If QEMU exits before its monitor answers,
 * the error carries the end of its log, which is where QEMU explains why.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { ErrorCode, VirtError, virtError } from '../../../errors.js';
import type { QemuCommand } from '../command/build.js';
import { QmpClient } from '../qmp/client.js';

export interface LaunchOptions {
  monitorPath: string;
  logPath: string;
  /** How long QEMU may take to open its monitor (default 30 s: a loaded host is slow). */
  timeoutMs?: number;
  /** Called with the exit of the child while this process lives (crash detection). */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface Launched {
  pid: number;
  qmp: QmpClient;
  child: ChildProcess;
}

/** The last lines QEMU wrote to its log since `from` (its own error messages). */
export function logTail(logPath: string, from = 0, maxBytes = 2000): string {
  try {
    const text = readFileSync(logPath, 'utf8').slice(from);
    return text.slice(-maxBytes).trim();
  } catch {
    return '';
  }
}

/** Current size of a log file (0 when it does not exist). */
export function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export async function launchQemu(cmd: QemuCommand, options: LaunchOptions): Promise<Launched> {
  const logStart = logSize(options.logPath);
  const log = openSync(options.logPath, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(cmd.emulator, cmd.args, {
      detached: true,
      stdio: ['ignore', log, log],
      env: { LC_ALL: 'C', PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    });
  } finally {
    closeSync(log);
  }
  child.unref();
  const exited = new Promise<VirtError>((resolve) => {
    child.once('error', (err) => resolve(virtError(ErrorCode.INTERNAL_ERROR, `cannot run '${cmd.emulator}': ${err.message}`)));
    child.once('exit', (code, signal) => {
      // QEMU prints why it refused to start on stderr, which is the log.
      const tail = logTail(options.logPath, logStart);
      resolve(virtError(ErrorCode.INTERNAL_ERROR, `QEMU exited while starting (${signal ?? `status ${code}`})${tail ? `: ${tail}` : ''}`));
    });
  });
  if (options.onExit) child.once('exit', options.onExit);
  const abort = new AbortController();
  try {
    const qmp = await Promise.race([
      QmpClient.connect(options.monitorPath, { timeoutMs: options.timeoutMs ?? 30_000, signal: abort.signal }),
      exited.then((e) => Promise.reject(e)),
    ]);
    chmodSync(options.monitorPath, 0o600);
    return { pid: child.pid!, qmp, child };
  } catch (err) {
    abort.abort();
    // QEMU opens its monitor before it opens images, so a refusal often shows as a monitor error
    // first; the exit (and the log saying why) follows within moments.
    child.ref();
    const why = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 2000).unref())]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (why) throw why;
    throw err instanceof VirtError ? err : virtError(ErrorCode.INTERNAL_ERROR, String(err));
  }
}
