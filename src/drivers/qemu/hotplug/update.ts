/**
 * Live updates QEMU can apply: a CD-ROM's medium (change or eject) and a NIC's link state. The new
 * medium's nodes are added before the old one is taken out, and the old nodes are deleted last, so a
 * failure at any step puts the old medium back.
 */
import { readAlias } from '../../../conf/devices/common.js';
import { ErrorCode, virtError } from '../../../errors.js';
import type { XmlElement } from '../../../xml/index.js';
import { diskNodes } from '../command/disk.js';
import type { QmpClient } from '../qmp/client.js';
import { addBlockNodes, deleteBlockNodes } from './plug.js';

/** Replaces (or ejects, when `after` has no source) the medium of the drive `before` describes. */
export async function changeMedium(qmp: QmpClient, before: XmlElement, after: XmlElement): Promise<void> {
  const id = readAlias(before);
  if (id === undefined) throw virtError(ErrorCode.OPERATION_FAILED, 'cannot change the medium of a drive without an alias');
  const old = diskNodes(before);
  const next = diskNodes(after);
  await addBlockNodes(qmp, next.nodes);
  let removed = false;
  try {
    await qmp.execute('blockdev-open-tray', { id, force: true });
    await qmp.execute('blockdev-remove-medium', { id });
    removed = true;
    if (next.format) await qmp.execute('blockdev-insert-medium', { id, 'node-name': next.format });
    await qmp.execute('blockdev-close-tray', { id });
  } catch (err) {
    // Put the old medium back, then drop the new nodes.
    if (removed && old.format) {
      await qmp.execute('blockdev-remove-medium', { id }).catch(() => {});
      await qmp.execute('blockdev-insert-medium', { id, 'node-name': old.format }).catch(() => {});
    }
    await qmp.execute('blockdev-close-tray', { id }).catch(() => {});
    await deleteBlockNodes(qmp, next.nodeNames).catch(() => {});
    throw err;
  }
  await deleteBlockNodes(qmp, old.nodeNames);
}

export async function setLinkState(qmp: QmpClient, alias: string, up: boolean): Promise<void> {
  await qmp.execute('set_link', { name: alias, up });
}
