/** What the test driver lets a running domain plug and unplug, with the QEMU driver's refusals and codes. */
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';

/** Device kinds QEMU hot-plugs (qemuDomainAttachDeviceLive). */
const LIVE_ATTACHABLE = new Set(['disk', 'controller', 'lease', 'interface', 'hostdev', 'redirdev', 'serial', 'parallel', 'console', 'channel', 'rng', 'memory', 'shmem', 'watchdog', 'input', 'vsock', 'filesystem']);
/** Device kinds QEMU hot-unplugs (qemuDomainDetachDeviceLive). */
const LIVE_DETACHABLE = LIVE_ATTACHABLE;
const UNPLUGGABLE_NET_TYPES = new Set(['server', 'client', 'mcast', 'udp', 'internal', 'null', 'vds']);

export function checkLiveAttach(dev: XmlElement): void {
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

export function checkLiveDetach(dev: XmlElement): void {
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

/** A controller still used by a disk or hostdev cannot go (libvirt: "device is busy"). */
export function checkControllerUnused(ctrl: XmlElement, devices: XmlElement[]): void {
  if (ctrl.name !== 'controller') return;
  const type = ctrl.attr('type');
  const index = ctrl.attr('index') ?? '0';
  const busy = devices.some((d) => {
    const a = d.child('address');
    return a?.attr('type') === 'drive' && (a.attr('controller') ?? '0') === index && d.child('target')?.attr('bus') === type;
  });
  if (busy) throw virtError(ErrorCode.OPERATION_FAILED, 'device cannot be detached: device is busy');
}

/** Attaching a disk whose target is taken (libvirt: "target %s already exists"). */
export function checkNewDiskTarget(dev: XmlElement, devices: XmlElement[], code: number): void {
  if (dev.name !== 'disk') return;
  const t = dev.child('target')?.attr('dev');
  if (devices.some((d) => d.name === 'disk' && d.child('target')?.attr('dev') === t)) {
    throw virtError(code, `target ${t} already exists`);
  }
}

export function checkNewController(dev: XmlElement, devices: XmlElement[]): void {
  if (dev.name !== 'controller') return;
  const type = dev.attr('type');
  const index = dev.attr('index') ?? '0';
  if (devices.some((d) => d.name === 'controller' && d.attr('type') === type && (d.attr('index') ?? '0') === index)) {
    throw virtError(ErrorCode.OPERATION_FAILED, `target ${type}:${index} already exists`);
  }
}
