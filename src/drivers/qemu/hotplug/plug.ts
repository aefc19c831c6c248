/**
 * Hot-plug on a running QEMU, as libvirt sequences it: disks by blockdev-add (storage, then format
 * node) and device_add; NICs by tap + netdev_add + device_add (+ set_link). Every step that fails
 * undoes the steps before it, so no block node, netdev or tap outlives a failed attach. Unplug is
 * device_del; the backends go only after QEMU reported DEVICE_DELETED (QEMU refuses earlier).
 */
import { readAlias } from '../../../conf/devices/common.js';
import type { DomainDef } from '../../../conf/domain.js';
import { ErrorCode, virtError } from '../../../errors.js';
import type { XmlElement } from '../../../xml/index.js';
import { controllerDevice } from '../command/devices.js';
import { diskObjects, nodeNamePattern, nodeNamesFor } from '../command/disk.js';
import { netdevId, netObjects } from '../command/net.js';
import { removeTap, setUpTap } from '../host/tap.js';
import { type QmpClient, QmpCommandError } from '../qmp/client.js';
import { qemuCrashPoint } from './crash-points.js';

export interface PlugOptions {
  /** Tags taps with the domain (ifalias), so a later process can find a tap a killed one left. */
  tapTag: string;
}

/** Ids of the devices QEMU has (`/machine/peripheral`). */
export async function peripheralIds(qmp: QmpClient): Promise<Set<string>> {
  const list = await qmp.execute('qom-list', { path: '/machine/peripheral' });
  return new Set(list.filter((p) => p.type.startsWith('child<')).map((p) => p.name));
}

/** Runs cleanup steps in order, all of them, keeping the first error for the caller. */
async function undo(steps: (() => Promise<unknown>)[]): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch {
      // Best effort: the original error is what the caller reports.
    }
  }
}

/** QEMU's answer to deleting a block node it does not have. */
function isMissingNode(err: unknown): boolean {
  return err instanceof QmpCommandError && /Cannot find|not found|Failed to find/i.test(err.qmpDesc);
}

/**
 * blockdev-del of the given nodes (format before storage); nodes already gone are fine, and their
 * names are returned. The commands go out back to back (QEMU runs them in order): one round trip. A
 * node QEMU still calls "in use" right after its device left (requests in flight drain first) is
 * retried for up to `busyMs`.
 */
export async function deleteBlockNodes(qmp: QmpClient, names: string[], busyMs = 2000): Promise<string[]> {
  const deadline = Date.now() + busyMs;
  const missing: string[] = [];
  let left = names;
  while (left.length > 0) {
    const results = await Promise.allSettled(left.map((name) => qmp.execute('blockdev-del', { 'node-name': name })));
    const busy: string[] = [];
    for (const [i, r] of results.entries()) {
      if (r.status === 'fulfilled') continue;
      if (isMissingNode(r.reason)) {
        missing.push(left[i]!);
        continue;
      }
      if (r.reason instanceof QmpCommandError && /in use/.test(r.reason.qmpDesc) && Date.now() < deadline) busy.push(left[i]!);
      else throw r.reason;
    }
    left = busy;
    if (left.length > 0) await new Promise((r) => setTimeout(r, 20));
  }
  return missing;
}

/** Names of every block node of a drive's media (any generation), format nodes first. */
export async function mediaNodes(qmp: QmpClient, alias: string): Promise<string[]> {
  const re = nodeNamePattern(alias);
  const names = (await qmp.execute('query-named-block-nodes', { flat: true })).map((n) => n['node-name']);
  const matched = names.map((n) => [n, re.exec(n)?.[1]] as const).filter(([, kind]) => kind !== undefined);
  return [...matched.filter(([, k]) => k === 'f'), ...matched.filter(([, k]) => k === 's')].map(([n]) => n);
}

/**
 * Adds block nodes in order, sent back to back (one round trip: QEMU runs them in order, so a
 * format node finds the storage node sent before it); on failure deletes the ones it added and
 * rethrows the first error.
 */
export async function addBlockNodes(qmp: QmpClient, nodes: Record<string, unknown>[]): Promise<void> {
  const results = await Promise.allSettled(nodes.map((node) => qmp.execute('blockdev-add', node as never)));
  const failed = results.find((r) => r.status === 'rejected');
  if (!failed) return;
  const added = nodes.filter((_, i) => results[i]!.status === 'fulfilled').map((n) => String(n['node-name']));
  await undo([() => deleteBlockNodes(qmp, added.reverse())]);
  throw failed.reason;
}

/** Hot-plugs a SCSI controller the domain definition has but QEMU lacks (a scsi disk needs it). */
async function ensureController(qmp: QmpClient, def: DomainDef, disk: XmlElement, have: Set<string>): Promise<string | undefined> {
  if (disk.child('target')?.attr('bus') !== 'scsi') return undefined;
  const index = Number(disk.child('address')?.attr('controller') ?? 0);
  const ctrl = def.elementsNamed('controller').find((c) => c.attr('type') === 'scsi' && Number(c.attr('index') ?? 0) === index);
  const alias = ctrl ? readAlias(ctrl) : undefined;
  if (!ctrl || alias === undefined || have.has(alias)) return undefined;
  const dev = controllerDevice(def, ctrl);
  if (!dev) return undefined;
  await qmp.execute('device_add', dev);
  return alias;
}

export async function plugDisk(qmp: QmpClient, def: DomainDef, disk: XmlElement): Promise<void> {
  const objs = diskObjects(def, disk);
  const alias = String(objs.device.id);
  // One round trip: the device list, the block nodes and device_add go out back to back. QEMU runs
  // them in order, so device_add finds the nodes sent before it, and it refuses an id QEMU has
  // already (the list tells the caller why) or a node that failed.
  const listing = peripheralIds(qmp);
  const adds = objs.nodes.map((node) => qmp.execute('blockdev-add', node as never));
  const plugged = qmp.execute('device_add', objs.device);
  plugged.catch(() => undefined);
  const [listed, ...added] = await Promise.allSettled([listing, ...adds]);
  const addedNames = new Set(objs.nodes.filter((_, i) => added[i]!.status === 'fulfilled').map((n) => String(n['node-name'])));
  const undoNodes = () => deleteBlockNodes(qmp, objs.nodeNames.filter((n) => addedNames.has(n)));
  if (addedNames.size === objs.nodes.length) qemuCrashPoint('qemu-backend-added');
  const [device] = await Promise.allSettled([plugged]);
  if (device.status === 'fulfilled') {
    qemuCrashPoint('qemu-device-added');
    return;
  }
  const failedNode = added.find((r) => r.status === 'rejected');
  if (listed.status === 'rejected' || listed.value.has(alias) || failedNode) {
    await undo([undoNodes]);
    if (listed.status === 'fulfilled' && listed.value.has(alias)) throw virtError(ErrorCode.OPERATION_FAILED, `QEMU already has a device with id '${alias}'`);
    throw failedNode ? (failedNode as PromiseRejectedResult).reason : (listed as PromiseRejectedResult).reason;
  }
  // A SCSI disk whose controller QEMU lacks (the definition has it): the controller, then the disk again.
  let controller: string | undefined;
  try {
    controller = await ensureController(qmp, def, disk, listed.value);
    if (controller === undefined) throw device.reason;
    await qmp.execute('device_add', objs.device);
    qemuCrashPoint('qemu-device-added');
  } catch (err) {
    await undo([() => (controller ? qmp.execute('device_del', { id: controller }) : Promise.resolve()), undoNodes]);
    throw err;
  }
}

/** Tag written to a tap's ifalias: `virtkit:<domain uuid>`. */
export function tapTagFor(uuid: string): string {
  return `virtkit:${uuid}`;
}

export async function plugNic(qmp: QmpClient, def: DomainDef, iface: XmlElement, options: PlugOptions): Promise<void> {
  const objs = netObjects(def, iface);
  const alias = String(objs.device.id);
  const duplicate = () => virtError(ErrorCode.OPERATION_FAILED, `QEMU already has a device with id '${alias}'`);
  const listing = peripheralIds(qmp);
  listing.catch(() => undefined);
  const steps: (() => Promise<unknown>)[] = [];
  try {
    if (objs.tap) {
      // Checked before a tap is made: no host change for a device QEMU already has.
      if ((await listing).has(alias)) throw duplicate();
      await setUpTap({ ...objs.tap, tag: options.tapTag });
      const tap = objs.tap;
      steps.unshift(() => removeTap(tap));
    }
    // netdev_add and device_add go out back to back (without a tap, right after the device list):
    // one round trip. QEMU runs them in order and refuses the device if the netdev or its id failed.
    const netdev = qmp.execute('netdev_add', objs.netdev);
    const plugged = qmp.execute('device_add', objs.device);
    plugged.catch(() => undefined);
    const [have, added] = await Promise.allSettled([listing, netdev]);
    if (added.status === 'fulfilled') {
      steps.unshift(() => qmp.execute('netdev_del', { id: netdevId(alias) }));
      qemuCrashPoint('qemu-backend-added');
    }
    const [device] = await Promise.allSettled([plugged]);
    if (device.status === 'rejected') {
      if (have.status === 'fulfilled' && have.value.has(alias)) throw duplicate();
      if (added.status === 'rejected') throw added.reason;
      throw device.reason;
    }
    qemuCrashPoint('qemu-device-added');
    if (objs.linkDown) {
      try {
        await qmp.execute('set_link', { name: alias, up: false });
      } catch (err) {
        // The NIC is in; it leaves only with the guest's help. Ask, and release the backend if it goes at once.
        await qmp.execute('device_del', { id: alias }).catch(() => {});
        throw err;
      }
    }
  } catch (err) {
    await undo(steps);
    throw err;
  }
}

/** Hot-plugs a device of `def` (disk, interface, or a SCSI controller). */
export async function plugDevice(qmp: QmpClient, def: DomainDef, dev: XmlElement, options: PlugOptions): Promise<void> {
  switch (dev.name) {
    case 'disk':
      return plugDisk(qmp, def, dev);
    case 'interface':
      return plugNic(qmp, def, dev, options);
    case 'controller': {
      const props = dev.attr('type') === 'scsi' ? controllerDevice(def, dev) : undefined;
      if (!props) throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `live attach of controller type '${dev.attr('type')}' is not supported`);
      await qmp.execute('device_add', props);
      return;
    }
    default:
      throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `live attach of device '${dev.name}' is not supported`);
  }
}

/**
 * Sends device_del. `gone`: QEMU no longer has the device (removed already); `sent`: the request is
 * out, or was already (QEMU 7.2: "already in the process of unplug"), completion comes as DEVICE_DELETED.
 */
export async function requestDeviceDel(qmp: QmpClient, alias: string): Promise<'sent' | 'gone'> {
  try {
    await qmp.execute('device_del', { id: alias });
    return 'sent';
  } catch (err) {
    if (err instanceof QmpCommandError && err.qmpClass === 'DeviceNotFound') return 'gone';
    if (err instanceof QmpCommandError && /already in the process of unplug/.test(err.qmpDesc)) return 'sent';
    throw err;
  }
}

/**
 * Deletes the block nodes of a drive that left the guest. Nearly every drive has exactly generation
 * 0's two nodes: those go in one round trip, without a lookup. Only when one of them is missing (a
 * CD-ROM whose medium was changed has generation 1's; an isolated disk's storage is a null node; an
 * empty drive has none) does a lookup find what the drive has instead. Names that may not exist are
 * not sent blindly: each command costs QEMU's main loop a turn, and right after an unplug, with the
 * guest busy reporting it, that turn took 1-5 ms per command (bench:qemu, TCG).
 */
async function deleteDiskNodes(qmp: QmpClient, alias: string): Promise<void> {
  const { format, storage } = nodeNamesFor(alias, 0);
  const missing = await deleteBlockNodes(qmp, [format, storage]);
  if (missing.length > 0) await deleteBlockNodes(qmp, await mediaNodes(qmp, alias));
}

/** Releases what backed a device QEMU has let go: block nodes, netdev, tap. Idempotent. */
export async function releaseBackends(qmp: QmpClient | undefined, dev: XmlElement): Promise<void> {
  if (dev.name === 'disk') {
    const alias = readAlias(dev);
    if (!qmp || alias === undefined) return;
    await deleteDiskNodes(qmp, alias);
    return;
  }
  if (dev.name === 'interface') {
    const alias = readAlias(dev);
    if (qmp && alias !== undefined) {
      try {
        await qmp.execute('netdev_del', { id: netdevId(alias) });
      } catch (err) {
        if (!(err instanceof QmpCommandError && /not found|Device '.*' not found/i.test(err.qmpDesc))) throw err;
      }
    }
    const type = dev.attr('type');
    const name = dev.child('target')?.attr('dev');
    if ((type === 'ethernet' || type === 'bridge') && name !== undefined) {
      await removeTap({ name, managed: dev.child('target')?.attr('managed') !== 'no' });
    }
  }
}
