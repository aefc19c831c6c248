/** What QEMU lets a running domain plug and unplug (libvirt's qemuDomainAttachDeviceLive / DetachDeviceLive), with its codes. */
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';
import type { HotplugRules } from './types.js';

/** Device kinds QEMU hot-plugs (qemuDomainAttachDeviceLive). */
const LIVE_ATTACHABLE = new Set(['disk', 'controller', 'lease', 'interface', 'hostdev', 'redirdev', 'serial', 'parallel', 'console', 'channel', 'rng', 'memory', 'shmem', 'watchdog', 'input', 'vsock', 'filesystem']);
/** Device kinds QEMU hot-unplugs (qemuDomainDetachDeviceLive). */
const LIVE_DETACHABLE = LIVE_ATTACHABLE;
const UNPLUGGABLE_NET_TYPES = new Set(['server', 'client', 'mcast', 'udp', 'internal', 'null', 'vds']);

function checkLiveAttach(dev: XmlElement): void {
  if (!LIVE_ATTACHABLE.has(dev.name)) throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `live attach of device '${dev.name}' is not supported`);
  if (dev.name === 'disk') {
    const device = dev.attr('device') ?? 'disk';
    const bus = dev.child('target')?.attr('bus') ?? '';
    if (device === 'floppy') throw virtError(ErrorCode.OPERATION_UNSUPPORTED, "floppy device hotplug isn't supported");
    if (bus !== 'virtio' && bus !== 'scsi' && bus !== 'usb') throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `disk bus '${bus}' cannot be hotplugged.`);
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
