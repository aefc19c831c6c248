/** Shared helpers for tests that run a real QEMU: private folders, spawning by argv, cleanup by pid. */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

/** Folder with the test guest (vmlinuz, initrd.gz), built by scripts/build-test-guest.sh if needed. */
export function testGuest(): { kernel: string; initrd: string } {
  const out = execFileSync('bash', [join(import.meta.dirname, '../../scripts/build-test-guest.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const dir = out.trim().split('\n').pop()!;
  return { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.gz') };
}

/** Follows a guest's serial log file: waits for lines the guest's init prints. */
export class SerialLog {
  private offset = 0;
  constructor(readonly path: string) {}

  text(): string {
    try {
      return readFileSync(this.path, 'utf8');
    } catch {
      return '';
    }
  }

  /** Marks the current end: later waits only look at what comes after. */
  mark(): void {
    this.offset = this.text().length;
  }

  /** Resolves with the first match after the mark (and moves the mark past it); rejects after `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = this.text();
      const m = re.exec(t.slice(this.offset));
      if (m) {
        this.offset += m.index + m[0].length;
        return m;
      }
      if (Date.now() > deadline) throw new Error(`serial log ${this.path}: no ${re} within ${timeoutMs} ms; tail:\n${t.slice(-800)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
