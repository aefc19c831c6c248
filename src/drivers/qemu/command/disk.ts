/**
 * A `<disk>` as QEMU objects: the block nodes (`-blockdev` at start, `blockdev-add` at hot-plug: the
 * same JSON) and the frontend device (`-device` / `device_add`). Node names come from the device's
 * alias and a medium generation (`vkf0-virtio-disk1` format, `vks0-virtio-disk1` storage; a CD-ROM
 * media change alternates the generation), so any later process finds them from the alias alone.
 */
import { createHash } from 'node:crypto';
import { readAlias } from '../../../conf/devices/common.js';
import type { DomainDef } from '../../../conf/domain.js';
import { ErrorCode, virtError } from '../../../errors.js';
import type { XmlElement } from '../../../xml/index.js';
import type { JsonObject } from '../qmp/protocol.js';
import { controllerId, controllerOf, driveAddress, pciProps, usbProps } from './placement.js';
import { absolutePath, checkNodeName, checkQemuId } from './qemu-opts.js';

export interface DiskObjects {
  /** blockdev-add arguments, in the order they must be added (storage, then format). Empty for an empty drive. */
  nodes: JsonObject[];
  /** Node names in the order they must be deleted (format, then storage). */
  nodeNames: string[];
  /** device_add arguments of the frontend. */
  device: JsonObject;
}

const FORMATS = new Set(['raw', 'qcow2']);
const HOTPLUG_BUSES = new Set(['virtio', 'scsi', 'usb']);

export function diskTarget(disk: XmlElement): string {
  return disk.child('target')?.attr('dev') ?? '';
}

/** The path a disk's medium comes from, or undefined for an empty CD-ROM/floppy drive. */
export function diskMediumPath(disk: XmlElement): string | undefined {
  const s = disk.child('source');
  return s?.attr('file') ?? s?.attr('dev');
}

/** The alias part of node names: the alias itself, or a digest when it would make a name too long. */
function nodeBase(alias: string): string {
  return alias.length <= 26 ? alias : `h${createHash('sha256').update(alias).digest('hex').slice(0, 20)}`;
}

export function nodeNamesFor(alias: string, gen: number): { storage: string; format: string } {
  const base = nodeBase(alias);
  return { storage: checkNodeName(`vks${gen}-${base}`), format: checkNodeName(`vkf${gen}-${base}`) };
}

/** Matches every node name of a disk's media, any generation: group 1 is `f` (format) or `s` (storage). */
export function nodeNamePattern(alias: string): RegExp {
  return new RegExp(`^vk([fs])\\d+-${nodeBase(alias).replace(/[.]/g, '\\.')}$`);
}

/** Whether a disk on `bus` can be hot-plugged/unplugged (QEMU's rule, as libvirt applies it). */
export function isHotpluggableDiskBus(bus: string): boolean {
  return HOTPLUG_BUSES.has(bus);
}

/** The block nodes of a disk's medium (generation `gen`). */
export function diskNodes(disk: XmlElement, gen = 0): { nodes: JsonObject[]; nodeNames: string[]; format?: string } {
  const target = diskTarget(disk);
  const type = disk.attr('type') ?? 'file';
  if (type !== 'file' && type !== 'block') {
    throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk type '${type}' (disk '${target}') is not supported by virtkit's QEMU driver`);
  }
  const path = diskMediumPath(disk);
  if (path === undefined) return { nodes: [], nodeNames: [] };
  const format = disk.child('driver')?.attr('type') ?? 'raw';
  if (!FORMATS.has(format)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk format '${format}' (disk '${target}') is not supported: use raw or qcow2`);
  const alias = readAlias(disk);
  if (alias === undefined) throw virtError(ErrorCode.INTERNAL_ERROR, `disk '${target}' has no alias`);
  const { storage, format: formatNode } = nodeNamesFor(alias, gen);
  const cdrom = disk.attr('device') === 'cdrom';
  const driver = type === 'file' ? 'file' : cdrom ? 'host_cdrom' : 'host_device';
  const readOnly = cdrom || disk.child('readonly') !== undefined;
  return {
    nodes: [
      { driver, filename: absolutePath(path, `source of disk '${target}'`), 'node-name': storage, 'auto-read-only': true, discard: 'unmap' },
      { 'node-name': formatNode, 'read-only': readOnly, driver: format, file: storage },
    ],
    nodeNames: [formatNode, storage],
    format: formatNode,
  };
}

/** Block nodes and frontend device of a disk in `def`. */
export function diskObjects(def: DomainDef, disk: XmlElement): DiskObjects {
  const target = diskTarget(disk);
  const alias = readAlias(disk);
  if (alias === undefined) throw virtError(ErrorCode.INTERNAL_ERROR, `disk '${target}' has no alias`);
  checkQemuId(alias, 'disk alias');
  const device = disk.attr('device') ?? 'disk';
  if (device !== 'disk' && device !== 'cdrom') {
    throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk device '${device}' (disk '${target}') is not supported by virtkit's QEMU driver`);
  }
  const cdrom = device === 'cdrom';
  const bus = disk.child('target')?.attr('bus') ?? 'virtio';
  const { nodes, nodeNames, format } = diskNodes(disk);
  const common: JsonObject = {};
  if (format) common.drive = format;
  common.id = alias;
  const boot = disk.child('boot')?.attr('order');
  if (boot !== undefined) common.bootindex = Number(boot);
  const serial = disk.childText('serial');
  if (serial !== undefined) {
    if (!/^[A-Za-z0-9 ._+-]{1,36}$/.test(serial)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk serial '${serial}' contains characters QEMU does not accept`);
    common.serial = serial;
  }
  let frontend: JsonObject;
  switch (bus) {
    case 'virtio':
      if (cdrom) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk '${target}': a cdrom cannot be on the virtio bus`);
      frontend = { driver: 'virtio-blk-pci', ...pciProps(def, disk), ...common };
      break;
    case 'scsi': {
      const a = driveAddress(disk, target);
      const ctrl = controllerOf(def, 'scsi', a.controller, `disk '${target}'`);
      const model = ctrl.attr('model') ?? 'lsilogic';
      const place: JsonObject =
        model === 'lsilogic' ? { bus: `${controllerId(ctrl)}.0`, 'scsi-id': a.unit } : { bus: `${controllerId(ctrl)}.0`, channel: a.bus, 'scsi-id': a.target, lun: a.unit };
      frontend = { driver: cdrom ? 'scsi-cd' : 'scsi-hd', ...place, device_id: `drive-${alias}`, ...common };
      break;
    }
    case 'sata': {
      const a = driveAddress(disk, target);
      const ctrl = controllerOf(def, 'sata', a.controller, `disk '${target}'`);
      frontend = { driver: cdrom ? 'ide-cd' : 'ide-hd', bus: `${controllerId(ctrl)}.${a.unit}`, ...common };
      break;
    }
    case 'ide': {
      const a = driveAddress(disk, target);
      const ctrl = controllerOf(def, 'ide', a.controller, `disk '${target}'`);
      frontend = { driver: cdrom ? 'ide-cd' : 'ide-hd', bus: `${controllerId(ctrl)}.${a.bus}`, unit: a.unit, ...common };
      break;
    }
    case 'usb':
      if (cdrom) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk '${target}': a cdrom on the usb bus is not supported by virtkit's QEMU driver`);
      if (!format) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk '${target}': a usb disk needs a source`);
      frontend = { driver: 'usb-storage', ...usbProps(def, disk), ...common, removable: disk.child('target')?.attr('removable') === 'on' };
      break;
    default:
      throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk bus '${bus}' (disk '${target}') is not supported by virtkit's QEMU driver`);
  }
  return { nodes, nodeNames, device: frontend };
}
