/** What QEMU lets a running domain plug and unplug (libvirt's qemuDomainAttachDeviceLive / DetachDeviceLive), with its codes. */
import { readDriveAddress } from '../../conf/address.js';
import { readAlias } from '../../conf/devices/common.js';
import type { DomainDef } from '../../conf/index.js';
import { assignDriveAddress } from '../../conf/qemu/drive-address.js';
import { isI440fx, isQ35 } from '../../conf/qemu/machine-kind.js';
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';
import { checkLiveDiskTarget } from './common.js';
import type { HotplugRules } from './types.js';

/** Device kinds QEMU hot-plugs (qemuDomainAttachDeviceLive). */
const LIVE_ATTACHABLE = new Set(['disk', 'controller', 'lease', 'interface', 'hostdev', 'redirdev', 'serial', 'parallel', 'console', 'channel', 'rng', 'memory', 'shmem', 'watchdog', 'input', 'vsock', 'filesystem']);
/** Device kinds QEMU hot-unplugs (qemuDomainDetachDeviceLive). */
const LIVE_DETACHABLE = LIVE_ATTACHABLE;
const UNPLUGGABLE_NET_TYPES = new Set(['server', 'client', 'mcast', 'udp', 'internal', 'null', 'vds']);

/**
 * A live disk on a bus QEMU cannot hot-plug. libvirt 9.0 reports "disk bus '…' cannot be
 * hotplugged." for IDE and SATA but goes on (qemuDomainAttachDeviceDiskLiveInternal has no exit
 * there), so what the caller sees is the next failure: the missing controller when building the
 * device's bus (virDomainControllerAliasFind), else QEMU 7.2's refusal of device_add on a bus
 * without hot-plug. The built-in IDE of i440fx and the built-in AHCI of q35 are named `ide`.
 */
function checkLiveDiskBus(dev: XmlElement, live: DomainDef): void {
  const bus = dev.child('target')?.attr('bus') ?? '';
  if (bus === 'virtio' || bus === 'scsi' || bus === 'usb') return;
  if (bus !== 'ide' && bus !== 'sata') throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `disk bus '${bus}' cannot be hotplugged.`);
  const probe = dev.clone();
  if (!readDriveAddress(probe)) assignDriveAddress(live, probe);
  const at = readDriveAddress(probe);
  if (!at) throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `disk bus '${bus}' cannot be hotplugged.`);
  const builtin = bus === 'ide' ? isI440fx(live) : isQ35(live) && at.controller === 0;
  let alias = 'ide';
  if (!builtin) {
    const ctrl = live.elementsNamed('controller').find((c) => c.attr('type') === bus && Number(c.attr('index') ?? 0) === at.controller);
    if (!ctrl) throw virtError(ErrorCode.INTERNAL_ERROR, `Could not find ${bus} controller with index ${at.controller} required for device`);
    alias = readAlias(ctrl) ?? `${bus}${at.controller}`;
  }
  const qemuBus = `${alias}.${bus === 'ide' ? at.bus : at.unit}`;
  throw virtError(ErrorCode.INTERNAL_ERROR, `unable to execute QEMU command 'device_add': Bus '${qemuBus}' does not support hotplugging`);
}

/** qemuDomainAttachDeviceLive's checks, in its order: the device kind, then per kind. */
function checkLiveAttach(dev: XmlElement, live: DomainDef): void {
  if (!LIVE_ATTACHABLE.has(dev.name)) throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `live attach of device '${dev.name}' is not supported`);
  if (dev.name === 'disk') {
    const device = dev.attr('device') ?? 'disk';
    if (device === 'floppy') throw virtError(ErrorCode.OPERATION_UNSUPPORTED, "floppy device hotplug isn't supported");
    checkLiveDiskTarget(dev, live.deviceElements());
    checkLiveDiskBus(dev, live);
  }
  if (dev.name === 'interface' && UNPLUGGABLE_NET_TYPES.has(dev.attr('type') ?? '')) {
    throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `live attach of interface type '${dev.attr('type')}' is not supported`);
  }
  if (dev.name === 'controller' && dev.attr('type') !== 'scsi') {
    throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `'${dev.attr('type')}' controller cannot be hot plugged.`);
  }
}

function checkLiveDetach(dev: XmlElement): void {
  if (!LIVE_DETACHABLE.has(dev.name)) throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `live detach of device '${dev.name}' is not supported`);
  if (dev.name === 'disk') {
    const device = dev.attr('device') ?? 'disk';
    const bus = dev.child('target')?.attr('bus') ?? '';
    const removableOk = device !== 'cdrom' && device !== 'floppy' ? true : bus === 'usb' || bus === 'scsi';
    if (!['virtio', 'scsi', 'usb'].includes(bus) || !removableOk) {
      throw virtError(ErrorCode.OPERATION_UNSUPPORTED, 'This type of disk cannot be hot unplugged');
    }
  }
  if (dev.name === 'controller' && dev.attr('type') !== 'scsi') {
    throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `'${dev.attr('type')}' controller cannot be hot unplugged.`);
  }
  if (!dev.child('alias')?.attr('name')) {
    throw virtError(ErrorCode.INTERNAL_ERROR, `Cannot detach ${dev.name} device with no alias`);
  }
}

export const qemuRules: HotplugRules = { hypervisor: 'qemu', checkLiveAttach, checkLiveDetach };
