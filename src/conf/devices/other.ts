/**
 * Typed views of the remaining modelled devices (input, graphics, video, serial,
 * console, channel, memballoon, rng, watchdog, hostdev). Everything else in them
 * is kept verbatim in the element.
 */
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';
import { readCommon, type DeviceCommon } from './common.js';

export interface InputDef extends DeviceCommon {
  kind: 'input';
  type: string;
  bus?: string;
}
export interface GraphicsDef extends DeviceCommon {
  kind: 'graphics';
  type: string;
  port?: number;
  autoport?: boolean;
  listen?: string;
}
export interface VideoDef extends DeviceCommon {
  kind: 'video';
  model?: string;
  vram?: number;
  heads?: number;
  primary: boolean;
}
/** serial, console, channel (and parallel): libvirt's character devices. */
export interface ChrDef extends DeviceCommon {
  kind: 'serial' | 'console' | 'channel' | 'parallel';
  type: string;
  targetType?: string;
  targetPort?: number;
  targetName?: string;
  sourcePath?: string;
}
export interface MemballoonDef extends DeviceCommon {
  kind: 'memballoon';
  model: string;
}
export interface RngDef extends DeviceCommon {
  kind: 'rng';
  model: string;
  backendModel?: string;
  backend?: string;
}
export interface WatchdogDef extends DeviceCommon {
  kind: 'watchdog';
  model: string;
  action?: string;
}
export interface HostdevDef extends DeviceCommon {
  kind: 'hostdev';
  mode: string;
  type?: string;
  managed: boolean;
  /** Host-side identity (`pci:0000:06:12.5`, `usb:0x1234:0xbeef`, `usb-addr:1:2`, ...). */
  sourceKey?: string;
}
/** Devices virtkit keeps verbatim without a typed model (sound, filesystem, tpm, ...). */
export interface OtherDeviceDef extends DeviceCommon {
  kind: string;
}

function int(v: string | undefined): number | undefined {
  return v === undefined || !/^\d+$/.test(v.trim()) ? undefined : Number(v);
}

export function readInput(e: XmlElement): InputDef {
  return { ...readCommon(e), kind: 'input', type: e.attr('type') ?? '', bus: e.attr('bus') };
}
export function readGraphics(e: XmlElement): GraphicsDef {
  return {
    ...readCommon(e),
    kind: 'graphics',
    type: e.attr('type') ?? '',
    port: int(e.attr('port')),
    autoport: e.attr('autoport') === undefined ? undefined : e.attr('autoport') === 'yes',
    listen: e.attr('listen') ?? e.child('listen')?.attr('address'),
  };
}
export function readVideo(e: XmlElement): VideoDef {
  const m = e.child('model');
  return {
    ...readCommon(e),
    kind: 'video',
    model: m?.attr('type'),
    vram: int(m?.attr('vram')),
    heads: int(m?.attr('heads')),
    primary: m?.attr('primary') === 'yes',
  };
}
export function readChr(e: XmlElement): ChrDef {
  const t = e.child('target');
  return {
    ...readCommon(e),
    kind: e.name as ChrDef['kind'],
    type: e.attr('type') ?? 'pty',
    targetType: t?.attr('type'),
    targetPort: int(t?.attr('port')),
    targetName: t?.attr('name'),
    sourcePath: e.child('source')?.attr('path'),
  };
}
export function readMemballoon(e: XmlElement): MemballoonDef {
  return { ...readCommon(e), kind: 'memballoon', model: e.attr('model') ?? '' };
}
export function readRng(e: XmlElement): RngDef {
  const b = e.child('backend');
  return { ...readCommon(e), kind: 'rng', model: e.attr('model') ?? '', backendModel: b?.attr('model'), backend: b?.text().trim() || undefined };
}
export function readWatchdog(e: XmlElement): WatchdogDef {
  return { ...readCommon(e), kind: 'watchdog', model: e.attr('model') ?? '', action: e.attr('action') };
}

/** Host-side source identity of a hostdev, which is what libvirt matches a hostdev detach on. */
export function hostdevSourceKey(e: XmlElement): string | undefined {
  const s = e.child('source');
  if (!s) return undefined;
  const type = e.attr('type');
  const a = s.child('address');
  if (type === 'pci' && a) {
    const n = (v: string | undefined) => (v === undefined ? 0 : Number.parseInt(v, v.startsWith('0x') ? 16 : 10));
    return `pci:${n(a.attr('domain'))}:${n(a.attr('bus'))}:${n(a.attr('slot'))}.${n(a.attr('function'))}`;
  }
  if (type === 'usb') {
    if (a) return `usb-addr:${a.attr('bus')}:${a.attr('device')}`;
    return `usb:${s.child('vendor')?.attr('id')}:${s.child('product')?.attr('id')}`;
  }
  if (type === 'mdev') return `mdev:${a?.attr('uuid')}`;
  if (type === 'scsi') {
    const ad = s.child('adapter')?.attr('name');
    return `scsi:${ad}:${a?.attr('bus')}:${a?.attr('target')}:${a?.attr('unit')}:${s.attr('protocol') ?? ''}:${s.attr('name') ?? ''}`;
  }
  return undefined;
}

export function readHostdev(e: XmlElement): HostdevDef {
  return {
    ...readCommon(e),
    kind: 'hostdev',
    mode: e.attr('mode') ?? 'subsystem',
    type: e.attr('type'),
    managed: e.attr('managed') === 'yes',
    sourceKey: hostdevSourceKey(e),
  };
}

/** Minimal structural checks for devices that have a required discriminator. */
export function validateOther(e: XmlElement): void {
  const need = (attr: string): void => {
    if (e.attr(attr) === undefined) throw virtError(ErrorCode.XML_ERROR, `missing ${attr} attribute in <${e.name}>`);
  };
  switch (e.name) {
    case 'input':
    case 'graphics':
      need('type');
      return;
    case 'memballoon':
    case 'rng':
    case 'watchdog':
      need('model');
      return;
    case 'hostdev':
      if ((e.attr('mode') ?? 'subsystem') === 'subsystem') need('type');
      return;
  }
}
