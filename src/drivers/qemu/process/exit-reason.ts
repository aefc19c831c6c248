/**
 * Why a QEMU exited, told by QEMU itself: it runs with the trace event qemu_system_shutdown_request,
 * which writes the shutdown cause to its log. A later process that finds the pid gone reads it
 * there: a guest poweroff is a shutdown, a guest panic or no cause at all (SIGKILL, abort) a crash.
 */
import { LifecycleDetail, StateReason } from '../../../shared/flags.js';
import { logTail } from './launch.js';

/** QEMU's ShutdownCause values (qapi/run-state.json). */
const CAUSES = ['none', 'host-error', 'host-qmp-quit', 'host-qmp-system-reset', 'host-signal', 'host-ui', 'guest-shutdown', 'guest-reset', 'guest-panic', 'subsystem-reset', 'snapshot-load'];

export const SHUTDOWN_TRACE_ARGS = ['-trace', 'enable=qemu_system_shutdown_request'];

export interface ExitReason {
  reason: number;
  detail: number;
  /** QEMU's cause, when it logged one. */
  cause?: string;
}

/** Maps a QEMU shutdown cause (name) to libvirt's shut-off reason and stopped-event detail. */
export function exitReasonOf(cause: string | undefined): ExitReason {
  switch (cause) {
    case 'guest-shutdown':
    case 'guest-reset':
    case 'host-signal':
    case 'host-ui':
      return { reason: StateReason.SHUTOFF_SHUTDOWN, detail: LifecycleDetail.STOPPED_SHUTDOWN, cause };
    case 'host-qmp-quit':
      return { reason: StateReason.SHUTOFF_DESTROYED, detail: LifecycleDetail.STOPPED_DESTROYED, cause };
    default:
      // No SHUTDOWN before the end (SIGKILL, abort, a guest panic): libvirt calls that a crash.
      return { reason: StateReason.SHUTOFF_CRASHED, detail: LifecycleDetail.STOPPED_FAILED, cause };
  }
}

/** The last shutdown cause QEMU logged after byte `from` of its log. */
export function loggedShutdownCause(logPath: string, from: number): string | undefined {
  const text = logTail(logPath, from, 64 * 1024);
  const all = [...text.matchAll(/qemu_system_shutdown_request reason=(\d+)/g)];
  const last = all.at(-1);
  return last ? (CAUSES[Number(last[1])] ?? `cause-${last[1]}`) : undefined;
}
