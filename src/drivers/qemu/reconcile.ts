/**
 * Making the live definition and QEMU agree after this process was not watching (a restart, a
 * killed process, an unplug answered while nobody was connected): devices QEMU no longer has are
 * reported removed; what a killed process plugged but never committed (a device, block nodes, a
 * netdev, a tap) is taken out again, so QEMU and the host match the last committed live XML.
 */
import { readAlias } from '../../conf/devices/common.js';
import type { DomainDef } from '../../conf/domain.js';
import { nodeNamePattern } from './command/disk.js';
import { netdevId } from './command/net.js';
import { removeTap, tapsTagged } from './host/tap.js';
import { deleteBlockNodes, peripheralIds, requestDeviceDel } from './hotplug/plug.js';
import { type QmpClient, QmpCommandError } from './qmp/client.js';

/** Aliases of the live devices QEMU must have as peripherals (those hot-plug can add or remove). */
export function pluggedAliases(def: DomainDef): string[] {
  const out: string[] = [];
  for (const e of [...def.elementsNamed('disk'), ...def.elementsNamed('interface')]) {
    const a = readAlias(e);
    if (a !== undefined) out.push(a);
  }
  return out;
}

/** Every alias in the live definition. */
function liveAliases(def: DomainDef): Set<string> {
  const out = new Set<string>();
  for (const e of def.deviceElements()) {
    const a = readAlias(e);
    if (a !== undefined) out.add(a);
  }
  return out;
}

/** Netdev ids QEMU has (from `info network`: QMP 7.2 has no query for them). */
export async function netdevIds(qmp: QmpClient): Promise<Set<string>> {
  const text = await qmp.execute('human-monitor-command', { 'command-line': 'info network' });
  return new Set([...text.matchAll(/^[\s\\]*([A-Za-z][A-Za-z0-9._-]*): index=\d+,type=(?!nic)/gm)].map((m) => m[1]!));
}

export interface OrphanReport {
  /** Devices QEMU has that the live XML does not, whose unplug was requested (or is still to be). */
  devices: string[];
  /** What was released: block nodes, netdevs, taps. */
  released: string[];
  /** Something could not be released yet: look again. */
  retry?: boolean;
}

/**
 * Takes out what QEMU (and the host) have beyond the live definition. A device needs an unplug
 * request (guest cooperation for PCI); its backends are released once it is gone, on a later pass.
 */
export async function cleanOrphans(qmp: QmpClient, def: DomainDef, tapTag: string, mayUnplug: () => Promise<boolean>): Promise<OrphanReport> {
  const aliases = liveAliases(def);
  const present = await peripheralIds(qmp);
  const devices = [...present].filter((id) => !aliases.has(id));
  const report: OrphanReport = { devices: [], released: [] };
  for (const id of devices) {
    report.devices.push(id);
    if (await mayUnplug()) await requestDeviceDel(qmp, id);
  }
  const keep = new Set([...aliases, ...devices]);
  // Block nodes of no live (or still present) drive.
  const disks = [...keep];
  const nodes = (await qmp.execute('query-named-block-nodes', { flat: true })).map((n) => n['node-name']).filter((n) => /^vk[fs]\d+-/.test(n));
  const stray = nodes.filter((n) => !disks.some((a) => nodeNamePattern(a).test(n)));
  const ordered = [...stray.filter((n) => n.startsWith('vkf')), ...stray.filter((n) => n.startsWith('vks'))];
  try {
    await deleteBlockNodes(qmp, ordered, 500);
    report.released.push(...ordered);
  } catch (err) {
    // Still in use (a device on its way out): the next pass takes it.
    if (!(err instanceof QmpCommandError)) throw err;
    report.retry = true;
  }
  // Netdevs of no live (or still present) NIC.
  const wanted = new Set([...keep].map(netdevId));
  for (const id of await netdevIds(qmp)) {
    if (wanted.has(id) || !id.startsWith('host')) continue;
    try {
      await qmp.execute('netdev_del', { id });
      report.released.push(id);
    } catch (err) {
      if (!(err instanceof QmpCommandError)) throw err;
    }
  }
  // Taps made for this domain that no live NIC names (once no orphan NIC may still hold one).
  if (devices.length > 0) return report;
  const named = new Set(def.elementsNamed('interface').map((i) => i.child('target')?.attr('dev')));
  for (const tap of tapsTagged(tapTag)) {
    if (named.has(tap)) continue;
    await removeTap({ name: tap, managed: true });
    report.released.push(tap);
  }
  return report;
}
