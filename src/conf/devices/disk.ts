/** `<disk>`: typed view, validation, define-time defaults. */
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';
import { busFromTarget } from '../disk-names.js';
import { readCommon, type DeviceCommon } from './common.js';

export interface DiskDef extends DeviceCommon {
  kind: 'disk';
  /** file | block | network | volume | dir | nvme | vhostuser */
  type: string;
  /** disk | cdrom | floppy | lun */
  device: string;
  /** `<target dev>` (e.g. vda); validation guarantees it for defined disks. */
  target?: string;
  bus?: string;
  /** File path, block device, directory, or `protocol:name` for network disks. */
  source?: string;
  readonly: boolean;
  driverType?: string;
}

/** The path-like identity of a disk's source, as libvirt matches `/path` names against it. */
export function diskSource(disk: XmlElement): string | undefined {
  const s = disk.child('source');
  if (!s) return undefined;
  const v = s.attr('file') ?? s.attr('dev') ?? s.attr('dir');
  if (v !== undefined) return v;
  const name = s.attr('name');
  if (name !== undefined) return s.attr('protocol') ? `${s.attr('protocol')}:${name}` : name;
  if (s.attr('volume') !== undefined) return `${s.attr('pool') ?? ''}/${s.attr('volume')}`;
  return undefined;
}

export function readDisk(disk: XmlElement): DiskDef {
  const target = disk.child('target');
  return {
    ...readCommon(disk),
    kind: 'disk',
    type: disk.attr('type') ?? 'file',
    device: disk.attr('device') ?? 'disk',
    target: target?.attr('dev'),
    bus: target?.attr('bus'),
    source: diskSource(disk),
    readonly: disk.child('readonly') !== undefined,
    driverType: disk.child('driver')?.attr('type'),
  };
}

const DISK_TYPES = new Set(['file', 'block', 'network', 'volume', 'dir', 'nvme', 'vhostuser']);
const DISK_DEVICES = new Set(['disk', 'cdrom', 'floppy', 'lun']);
const DISK_BUSES = new Set(['ide', 'scsi', 'virtio', 'xen', 'usb', 'uml', 'sata', 'sd', 'fdc', 'none']);

/** What libvirt's VIR_ERR_NO_TARGET names after "for device": the pool and volume, the source path, or nothing. */
function noTargetDetail(disk: XmlElement): string {
  const s = disk.child('source');
  const volume = s?.attr('volume');
  if (volume !== undefined) return ` pool = '${s!.attr('pool') ?? ''}', volume = '${volume}'`;
  const path = s?.attr('file') ?? s?.attr('dev') ?? s?.attr('dir') ?? s?.attr('name');
  return path === undefined ? '' : ` ${path}`;
}

/** Semantic checks libvirt makes on a disk at parse time. */
export function validateDisk(disk: XmlElement): void {
  const type = disk.attr('type') ?? 'file';
  if (!DISK_TYPES.has(type)) throw virtError(ErrorCode.XML_ERROR, `unknown disk type '${type}'`);
  const device = disk.attr('device') ?? 'disk';
  if (!DISK_DEVICES.has(device)) throw virtError(ErrorCode.XML_ERROR, `unknown disk device '${device}'`);
  const target = disk.child('target');
  const dev = target?.attr('dev');
  if (!dev) {
    throw virtError(ErrorCode.NO_TARGET, `missing target information for device${noTargetDetail(disk)}`);
  }
  if (/[/\s]/.test(dev)) throw virtError(ErrorCode.XML_ERROR, `invalid disk target '${dev}'`);
  const bus = target?.attr('bus');
  if (bus !== undefined && !DISK_BUSES.has(bus)) throw virtError(ErrorCode.XML_ERROR, `unknown disk bus type '${bus}'`);
}

/** Fills `<target bus>` from the target prefix (vd → virtio, sd → scsi, hd → ide, xvd → xen). */
export function applyDiskDefaults(disk: XmlElement): void {
  if (!disk.hasAttr('type')) disk.attrs.unshift(['type', 'file']);
  if (!disk.hasAttr('device')) disk.attrs.splice(1, 0, ['device', 'disk']);
  const target = disk.child('target');
  if (!target) return;
  const dev = target.attr('dev');
  if (dev && !target.hasAttr('bus')) {
    const bus = busFromTarget(dev, disk.attr('device') ?? 'disk');
    if (bus) target.setAttr('bus', bus);
  }
}
