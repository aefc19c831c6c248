/**
 * Is a QEMU we started still the process behind its pid? A pid alone can be reused after QEMU died,
 * so the runtime data keeps the process's start time (/proc/<pid>/stat field 22) as well.
 */
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks since boot. */
  startTime: number;
}

/** The identity of a live process, or undefined when it is gone or a zombie. */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parentheses: fields are counted from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  if (state === 'Z' || state === 'X') return undefined;
  const startTime = Number(fields[19]);
  return Number.isFinite(startTime) ? { pid, startTime } : undefined;
}

/** Whether the process `id` names is still running. */
export function isRunning(id: ProcessIdentity): boolean {
  return processIdentity(id.pid)?.startTime === id.startTime;
}

/** Waits until the process is gone (or `timeoutMs` passed); returns whether it is gone. */
export async function waitGone(id: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(id)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

/** Sends a signal to the process if it is still the one `id` names. */
export function signalProcess(id: ProcessIdentity, signal: NodeJS.Signals): void {
  if (!isRunning(id)) return;
  try {
    process.kill(id.pid, signal);
  } catch {
    // gone meanwhile
  }
}
