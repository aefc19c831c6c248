/**
 * Test hooks for "kill the managing process during a hot-plug": `VIRTKIT_CRASH_AT=<point>` (the
 * store's convention, see hypervisor/store/crash-points.ts) makes the process SIGKILL itself when an
 * attach reaches that step, so the test kills between two QMP commands instead of hoping:
 *
 *   qemu-backend-added   block nodes / netdev (and tap) added; device_add went out with them, its answer not read
 *   qemu-device-added    device_add done, the engine has not committed the live XML
 */
const at = process.env.VIRTKIT_CRASH_AT;

export type QemuCrashPoint = 'qemu-backend-added' | 'qemu-device-added';

export function qemuCrashPoint(point: QemuCrashPoint): void {
  if (at === point) process.kill(process.pid, 'SIGKILL');
}
