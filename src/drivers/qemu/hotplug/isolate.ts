/**
 * The hot-plug contract's isolate on QEMU, for a device whose unplug the guest has not answered: it
 * stays plugged in the guest but reaches nothing on the host. An interface's link goes down
 * (set_link) and its tap leaves its bridge; a disk's format node is reopened onto a null-co node of
 * the same size (reads return zeros, writes go nowhere) and the node that held the image is deleted,
 * so QEMU no longer has the image open. The guest's later answer (or QEMU's exit) releases the rest
 * as for any unplug: the null node carries the disk's node-name pattern, so releaseBackends deletes it.
 */
import { readAlias } from '../../../conf/devices/common.js';
import { ErrorCode, virtError } from '../../../errors.js';
import type { XmlElement } from '../../../xml/index.js';
import { diskMediumPath, diskNodes, nodeNamesFor } from '../command/disk.js';
import { leaveBridge, netdevExists } from '../host/tap.js';
import type { QmpClient } from '../qmp/client.js';
import { mediaNodes } from './plug.js';
import { setLinkState } from './update.js';

async function isolateNic(qmp: QmpClient, iface: XmlElement, alias: string): Promise<void> {
  await setLinkState(qmp, alias, false);
  const tap = iface.child('target')?.attr('dev');
  if (tap !== undefined && netdevExists(tap)) await leaveBridge(tap);
}

async function isolateDisk(qmp: QmpClient, disk: XmlElement, alias: string): Promise<void> {
  // An empty drive has no image to revoke.
  if (diskMediumPath(disk) === undefined) return;
  const inserted = (await mediaNodes(qmp, alias)).find((n) => n.startsWith('vkf'));
  const gen = Number(/^vkf(\d+)-/.exec(inserted ?? '')?.[1] ?? Number.NaN);
  if (inserted === undefined || !Number.isInteger(gen)) throw virtError(ErrorCode.OPERATION_FAILED, `cannot isolate disk '${alias}': QEMU has no medium node for it`);
  const { nodes } = diskNodes(disk, gen);
  const [storage, format] = nodes as [Record<string, unknown>, Record<string, unknown>];
  const storageName = String(storage['node-name']);
  if (format['node-name'] !== inserted) throw virtError(ErrorCode.OPERATION_FAILED, `cannot isolate disk '${alias}': QEMU's medium node '${inserted}' is not the one its definition names`);
  const all = await qmp.execute('query-named-block-nodes', { flat: true });
  const size = all.find((n) => n['node-name'] === storageName)?.image?.['virtual-size'];
  if (typeof size !== 'number') return; // the image node is gone already (isolated before)
  // Above the generations media changes use (0 and 1), with the storage letter: found and deleted with the drive.
  const nul = nodeNamesFor(alias, gen + 2).storage;
  await qmp.execute('blockdev-add', { driver: 'null-co', 'node-name': nul, size });
  try {
    await qmp.execute('blockdev-reopen', { options: [{ ...format, file: nul }] });
  } catch (err) {
    await qmp.execute('blockdev-del', { 'node-name': nul }).catch(() => {});
    throw err;
  }
  await qmp.execute('blockdev-del', { 'node-name': storageName });
}

/** Cuts the interface or disk `dev` (of the running definition) off from the host. */
export async function isolateDevice(qmp: QmpClient, dev: XmlElement): Promise<void> {
  const alias = readAlias(dev);
  if (alias === undefined) throw virtError(ErrorCode.INTERNAL_ERROR, `cannot isolate a <${dev.name}> without an alias`);
  if (dev.name === 'interface') return isolateNic(qmp, dev, alias);
  if (dev.name === 'disk') return isolateDisk(qmp, dev, alias);
  throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `isolating a <${dev.name}> device is not supported: only interfaces and disks can be cut off from the host`);
}
