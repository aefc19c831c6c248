/** Every virtkit command, by virsh name. */
import type { CommandDef } from './command.js';
import { changeMedia } from './commands/change-media.js';
import { create, define } from './commands/define.js';
import { detachDeviceAlias } from './commands/detach-device-alias.js';
import { attachDevice, detachDevice, updateDevice } from './commands/device.js';
import { attachDisk, detachDisk } from './commands/disk.js';
import { domblklist } from './commands/domblklist.js';
import { domid, domname, domuuid } from './commands/domid.js';
import { domiflist } from './commands/domiflist.js';
import { dominfo } from './commands/dominfo.js';
import { domstate } from './commands/domstate.js';
import { dumpxml } from './commands/dumpxml.js';
import { consoleCommand } from './commands/console.js';
import { autostart, reboot, setmaxmem, setmem, setvcpus } from './commands/domain-settings.js';
import { edit } from './commands/edit.js';
import { domblkinfo, domifaddr } from './commands/guest-info.js';
import { capabilities, domcapabilities, nodeinfo } from './commands/host.js';
import { netList, poolList, volList } from './commands/storage.js';
import { event } from './commands/event.js';
import { makeHelp } from './commands/help.js';
import { attachInterface, detachInterface } from './commands/interface.js';
import { destroy, resume, shutdown, start, suspend } from './commands/lifecycle.js';
import { isolateDeviceCommand, pendingDevicesCommand, persistDeviceCommand } from './commands/hotplug-contract.js';
import { list } from './commands/list.js';
import { apply } from './commands/apply.js';
import { cd, connect, echo, exit, hostname, pwd, quit, uri, version } from './commands/misc.js';
import { undefine } from './commands/undefine.js';

/** The command table. */
export const COMMANDS: readonly CommandDef[] = [
  list,
  define,
  undefine,
  create,
  start,
  destroy,
  shutdown,
  suspend,
  resume,
  dumpxml,
  edit,
  reboot,
  autostart,
  consoleCommand,
  setmem,
  setmaxmem,
  setvcpus,
  domifaddr,
  domblkinfo,
  nodeinfo,
  capabilities,
  domcapabilities,
  netList,
  poolList,
  volList,
  dominfo,
  domstate,
  domid,
  domuuid,
  domname,
  attachDevice,
  detachDevice,
  updateDevice,
  detachDeviceAlias,
  attachDisk,
  detachDisk,
  attachInterface,
  detachInterface,
  pendingDevicesCommand,
  isolateDeviceCommand,
  persistDeviceCommand,
  apply,
  changeMedia,
  domblklist,
  domiflist,
  event,
  uri,
  version,
  hostname,
  makeHelp(() => COMMANDS),
  echo,
  connect,
  cd,
  pwd,
  quit,
  exit,
];

/** The command with this name, if any. */
export function findCommand(name: string): CommandDef | undefined {
  return COMMANDS.find((c) => c.name === name);
}
