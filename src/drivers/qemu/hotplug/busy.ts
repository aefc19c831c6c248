/**
 * QEMU >= 6.2 refuses device_del while a PCIe slot's power indicator blinks (the guest is still
 * handling the plug): "Hot-unplug failed: guest is busy (power indicator blinking)". The engine
 * keeps libvirt's error for libvirt's calls and retries for the contract (backend status `busy`).
 */
import { QmpCommandError } from '../qmp/client.js';

export function isGuestBusy(err: unknown): err is QmpCommandError {
  return err instanceof QmpCommandError && /guest is busy/i.test(err.qmpDesc);
}
