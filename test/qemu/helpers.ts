/** Shared helpers for tests that run a real QEMU: private folders, spawning by argv, cleanup by pid. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QEMU = process.env.VIRTKIT_TEST_QEMU ?? '/usr/bin/qemu-system-x86_64';

/**
 * Why QEMU tests cannot run here, or undefined when they can. Under CI=true a missing QEMU is a
 * failure, never a skip: callers pass this to `assert` there.
 */
export function qemuMissing(): string | undefined {
  if (!existsSync(QEMU)) return `${QEMU} not installed (apt-get install qemu-system-x86)`;
  return undefined;
}

/** `{ skip }` for node:test: skip outside CI when QEMU is missing; in CI the test runs and fails loudly. */
export function qemuTestOptions(): { skip?: string } {
  const missing = qemuMissing();
  if (missing && process.env.CI !== 'true') return { skip: missing };
  return {};
}

export function privateDir(prefix = 'vk-qemu-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface SpawnedQemu {
  proc: ChildProcess;
  dir: string;
  monitor: string;
  /** SIGKILLs QEMU (by its pid) and waits for it; removes the folder. */
  kill(): Promise<void>;
}

/** Starts a QEMU with a QMP unix socket in a private folder; `args` come after the monitor options. */
export function spawnQemu(args: string[], dir = privateDir()): SpawnedQemu {
  const missing = qemuMissing();
  if (missing) throw new Error(missing);
  const monitor = join(dir, 'qmp.sock');
  const proc = spawn(QEMU, ['-nodefaults', '-display', 'none', '-qmp', `unix:${monitor},server=on,wait=off`, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  proc.stderr?.resume();
  const exited = new Promise<void>((r) => {
    if (proc.exitCode !== null || proc.signalCode !== null) r();
    else proc.once('exit', () => r());
  });
  return {
    proc,
    dir,
    monitor,
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
        try {
          process.kill(proc.pid, 'SIGCONT');
          process.kill(proc.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pids of qemu-system processes whose command line mentions `needle` (leak checks). */
export function qemuPidsMentioning(needle: string): number[] {
  try {
    const out = execFileSync('pgrep', ['-f', '--', needle], { encoding: 'utf8' });
    return out.split('\n').filter(Boolean).map(Number).filter((p) => p !== process.pid);
  } catch {
    return [];
  }
}
