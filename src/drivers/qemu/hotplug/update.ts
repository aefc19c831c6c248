/**
 * Live updates QEMU can apply: a CD-ROM's medium (change or eject) and a NIC's link state. The new
 * medium's nodes are added before the old one is taken out, and the old nodes are deleted last, so a
 * failure at any step puts the old medium back.
 */
import { readAlias } from '../../../conf/devices/common.js';
import { ErrorCode, virtError } from '../../../errors.js';
import type { XmlElement } from '../../../xml/index.js';
import { diskNodes } from '../command/disk.js';
import { type QmpClient, QmpCommandError } from '../qmp/client.js';
import { addBlockNodes, deleteBlockNodes, mediaNodes } from './plug.js';

/** Replaces (or ejects, when `after` has no source) the medium of the drive `before` describes. */
export async function changeMedium(qmp: QmpClient, before: XmlElement, after: XmlElement): Promise<void> {
  const id = readAlias(before);
  if (id === undefined) throw virtError(ErrorCode.OPERATION_FAILED, 'cannot change the medium of a drive without an alias');
  // The new medium gets the other generation's names; the old nodes are whatever QEMU has now.
  const inserted = (await qmp.execute('query-block')).find((b) => b.qdev === id || b.qdev?.endsWith(`/${id}`))?.inserted?.['node-name'];
  const gen = inserted !== undefined && /^vkf0-/.test(inserted) ? 1 : 0;
  const oldNames = await mediaNodes(qmp, id);
  const oldFormat = oldNames.find((n) => n === inserted);
  const next = diskNodes(after, gen);
  await addBlockNodes(qmp, next.nodes);
  let removed = false;
  try {
    await withTrayOpen(qmp, id);
    removed = true;
    if (next.format) await withTrayOpen(qmp, id, next.format);
    await qmp.execute('blockdev-close-tray', { id });
  } catch (err) {
    // Put the old medium back, then drop the new nodes.
    if (removed && oldFormat) {
      await qmp.execute('blockdev-remove-medium', { id }).catch(() => {});
      await qmp.execute('blockdev-insert-medium', { id, 'node-name': oldFormat }).catch(() => {});
    }
    await qmp.execute('blockdev-close-tray', { id }).catch(() => {});
    await deleteBlockNodes(qmp, next.nodeNames).catch(() => {});
    throw err;
  }
  await deleteBlockNodes(qmp, oldNames);
}

/** How often the tray is opened again when the guest closed it before a medium command ran. */
const TRAY_ATTEMPTS = 5;

/**
 * Opens the tray (forced: a guest's lock does not hold it) and takes the medium out, or puts `insert` in. A running guest
 * may close the tray again between the two commands (its CD-ROM driver loads the medium while it
 * probes the drive, e.g. during boot), before the old medium came out or the new one went in: then
 * the tray is opened again, a few times.
 */
async function withTrayOpen(qmp: QmpClient, id: string, insert?: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await qmp.execute('blockdev-open-tray', { id, force: true });
    try {
      if (insert === undefined) await qmp.execute('blockdev-remove-medium', { id });
      else await qmp.execute('blockdev-insert-medium', { id, 'node-name': insert });
      return;
    } catch (err) {
      if (attempt >= TRAY_ATTEMPTS || !(err instanceof QmpCommandError && /is not open/.test(err.qmpDesc))) throw err;
    }
  }
}

export async function setLinkState(qmp: QmpClient, alias: string, up: boolean): Promise<void> {
  await qmp.execute('set_link', { name: alias, up });
}
