/**
 * Whether KVM really works with a QEMU binary. `/dev/kvm` existing, KVM initialising and `query-kvm`
 * saying enabled prove nothing: on some hosts (e.g. the PVM-backed /dev/kvm of nested sandboxes) KVM
 * starts and the guest then crawls. So the probe runs a guest: a 64 KiB firmware image that counts a
 * register down from ten million and writes to QEMU's isa-debug-exit port, which ends QEMU with status
 * 99. Real KVM finishes in milliseconds (TCG in ~0.1 s); a guest that has not finished within the time
 * limit means KVM must not be used.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KvmVerdict {
  /** KVM may be used for `<domain type='kvm'>`. */
  usable: boolean;
  /** Why (shown in errors when a kvm domain cannot start). */
  reason: string;
  /** Wall time of the probe guest under KVM, when it finished. */
  elapsedMs?: number;
}

const LOOP_COUNT = 10_000_000;
const DEBUG_EXIT_PORT = 0xf4;
const EXIT_VALUE = 0x31;
/** isa-debug-exit turns the value written into the exit status (value << 1) | 1. */
const EXPECTED_STATUS = (EXIT_VALUE << 1) | 1;

/** The firmware: real-mode code at F000:0000, reached from the reset vector at F000:FFF0. */
export function probeFirmware(loops = LOOP_COUNT): Buffer {
  const rom = Buffer.alloc(64 * 1024, 0xf4); // hlt everywhere else
  const n = [0, 1, 2, 3].map((i) => (loops >>> (8 * i)) & 0xff);
  const code = [
    0x66, 0xb9, ...n, // mov ecx, loops
    0x66, 0x49, // loop: dec ecx
    0x75, 0xfc, // jnz loop
    0xb0, EXIT_VALUE, // mov al, EXIT_VALUE
    0xe6, DEBUG_EXIT_PORT, // out DEBUG_EXIT_PORT, al   (QEMU exits here)
    0xf4, // hlt
    0xeb, 0xfd, // jmp hlt
  ];
  Buffer.from(code).copy(rom, 0);
  Buffer.from([0xea, 0x00, 0x00, 0x00, 0xf0]).copy(rom, 0xfff0); // jmp far F000:0000
  return rom;
}

/** Runs the probe guest under KVM with `emulator`; never throws. x86 binaries only. */
export async function probeKvm(emulator: string, options: { timeoutMs?: number; device?: string } = {}): Promise<KvmVerdict> {
  const device = options.device ?? '/dev/kvm';
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
  } catch (err) {
    return { usable: false, reason: `${device} is not usable: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  return runProbeGuest(emulator, 'kvm', options.timeoutMs ?? 2000);
}

/** Runs the probe guest under `accel` and judges the run (exported so tests can check the guest itself under TCG). */
export async function runProbeGuest(emulator: string, accel: 'kvm' | 'tcg', timeoutMs: number): Promise<KvmVerdict> {
  const name = accel === 'kvm' ? 'KVM' : 'TCG';
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-kvm-probe-'));
  try {
    const rom = join(dir, 'probe.rom');
    writeFileSync(rom, probeFirmware(), { mode: 0o600 });
    const args = ['-accel', accel, '-machine', 'pc', '-m', '16', '-nodefaults', '-display', 'none', '-no-reboot', '-monitor', 'none'];
    args.push('-serial', 'none', '-bios', rom, '-device', `isa-debug-exit,iobase=${DEBUG_EXIT_PORT},iosize=1`);
    const started = performance.now();
    const result = await run(emulator, args, timeoutMs);
    const elapsedMs = Math.round(performance.now() - started);
    if (result.timedOut) {
      return {
        usable: false,
        reason: `${name} initialises but a guest crawls under it: a ${LOOP_COUNT / 1e6}M-iteration loop did not finish within ${timeoutMs} ms`,
      };
    }
    if (result.status !== EXPECTED_STATUS) {
      const detail = result.stderr.trim().split('\n').pop() ?? '';
      return { usable: false, reason: `QEMU could not run a guest under ${name} (exit status ${result.status ?? result.signal}): ${detail}` };
    }
    return { usable: true, reason: `a probe guest ran under ${name} in ${elapsedMs} ms`, elapsedMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  timedOut: boolean;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ status: null, signal: null, stderr: err.message, timedOut: false });
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stderr, timedOut });
    });
  });
}
