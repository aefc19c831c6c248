/**
 * Whether an unplug request for a PCI device can reach the guest now. With ACPI PCI hot-plug (pc, and
 * q35's root ports in QEMU 7.2), QEMU signals the request through ACPI GPE0 bit 1; a guest OS clears
 * stale GPE status when its ACPI starts, so a request sent before that is lost, and QEMU 7.2 refuses
 * every later `device_del` of that device ("already in the process of unplug"). The OS enables GPE0
 * bit 1 once it handles PCI hot-plug, and QEMU lets us read the enable register: its block address
 * from the ACPI device's `gpe0_blk`, the register itself with the monitor's port read.
 */
import { QmpCommandError, type QmpClient } from '../qmp/client.js';

const PCI_HOTPLUG_GPE_BIT = 0x02;

/** The enable register's port last found for one QEMU: lets the next probe read it in the same round trip. */
export interface GpePortCache {
  port?: number;
  /**
   * The ACPI device is PIIX4's (pc), whose GPE block sits at a fixed address (0xafe0): once its port
   * is known, the register alone is read, one command instead of three. Each command costs QEMU's
   * main loop a turn (~2 ms on a loaded host), and the probe precedes every PCI device_del.
   */
  fixed?: boolean;
  /** The QEMU (pid and start time) the above was learned from. */
  qemu?: string;
}

/** `cache` for the QEMU `qemu` identifies: what was learned from an earlier QEMU (another machine type, maybe) is forgotten. */
export function gpeCacheFor(cache: GpePortCache, qemu: string): GpePortCache {
  if (cache.qemu !== qemu) {
    delete cache.port;
    delete cache.fixed;
    cache.qemu = qemu;
  }
  return cache;
}

/** The register's value read at `port`: whether the guest enabled the PCI hot-plug GPE, undefined if unreadable. */
function enabled(out: string): boolean | undefined {
  const m = /=\s*0x([0-9a-f]+)/i.exec(out);
  if (!m) return undefined;
  const value = Number.parseInt(m[1]!, 16);
  // 0xff: nothing decodes the port (unmapped), never a real enable mask of a PC guest.
  return value !== 0xff && (value & PCI_HOTPLUG_GPE_BIT) !== 0;
}

function readPort(qmp: QmpClient, port: number): Promise<string> {
  return qmp.execute('human-monitor-command', { 'command-line': `i /b 0x${port.toString(16)}` });
}

/**
 * true: the guest handles ACPI PCI hot-plug now; false: not yet (no OS, firmware, early boot, reset);
 * undefined: the machine has no ACPI GPE block to read (no ACPI hot-plug to wait for). With a
 * `cache`, the register at the port found last time is read together with the block's address, and
 * read again only when the address moved; on PIIX4 (fixed block) the register alone is read.
 */
export async function acpiPciHotplugReady(qmp: QmpClient, cache?: GpePortCache): Promise<boolean | undefined> {
  const guess = cache?.port;
  if (guess !== undefined && cache?.fixed) return enabled(await readPort(qmp, guess));
  const early = guess === undefined ? undefined : readPort(qmp, guess);
  early?.catch(() => undefined);
  const get = (property: string) => qmp.execute('qom-get', { path: '/machine/acpi-device', property });
  let blk: unknown;
  let len: unknown;
  let type: unknown;
  try {
    // The device's type only until it is known: it does not change for the life of a QEMU.
    [blk, len, type] = await Promise.all([get('gpe0_blk'), get('gpe0_blk_len'), cache && cache.fixed === undefined ? get('type') : undefined]);
  } catch (err) {
    if (err instanceof QmpCommandError) return undefined;
    throw err;
  }
  if (typeof blk !== 'number' || typeof len !== 'number' || len < 2) return undefined;
  // Below 0x100 the firmware has not mapped the PM I/O block yet (q35 before PMBASE is programmed).
  if (blk < 0x100) return false;
  const port = blk + len / 2;
  if (cache) {
    cache.port = port;
    if (typeof type === 'string') cache.fixed = type === 'PIIX4_PM';
  }
  return enabled(early !== undefined && guess === port ? await early : await readPort(qmp, port));
}
