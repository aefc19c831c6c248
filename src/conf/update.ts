/**
 * updateDevice semantics (libvirt's qemuDomainChangeDiskLive / qemuDomainChangeNet /
 * qemuDomainChangeGraphics): a removable disk may change its media; an interface may change link
 * state and a few other live-tunable fields; a display its password; anything else is refused
 * with libvirt's codes.
 */
import { ErrorCode, virtError } from '../errors.js';
import { cloneNode, type XmlElement, xmlDiff } from '../xml/index.js';
import { diskSource } from './devices/disk.js';
import { INTERFACE_ORDER, DISK_ORDER } from './devices/kinds.js';
import { parseMac } from './mac.js';
import { normalizeGraphicsElement } from './qemu/graphics.js';

export interface UpdateOptions {
  /** Applying to the running definition (stricter rules) rather than the persistent one. */
  live: boolean;
  force: boolean;
}

/** Result of an update, for events and messages. */
export interface UpdateOutcome {
  /** `media` (disk source changed / ejected), `link` (link state), or `other`. */
  change: 'media' | 'link' | 'other' | 'none';
}

function copyIfMissing(from: XmlElement, to: XmlElement, name: string, order: string[]): void {
  const src = from.child(name);
  if (src && !to.child(name)) to.insertOrdered(cloneNode(src) as XmlElement, order);
}

/** Changes `current` (a disk of the domain) to look like `wanted`. */
function updateDisk(current: XmlElement, wanted: XmlElement, opts: UpdateOptions): UpdateOutcome {
  const device = current.attr('device') ?? 'disk';
  const wantedDevice = wanted.attr('device') ?? 'disk';
  if (wantedDevice !== device) {
    throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `cannot change disk device type from '${device}' to '${wantedDevice}'`);
  }
  const curBus = current.child('target')?.attr('bus');
  const newBus = wanted.child('target')?.attr('bus');
  if (newBus !== undefined && curBus !== undefined && newBus !== curBus) {
    throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `cannot modify field 'bus' of the disk: '${curBus}' to '${newBus}'`);
  }
  const sourceChanged = diskSource(current) !== diskSource(wanted) || (current.attr('type') ?? 'file') !== (wanted.attr('type') ?? 'file');
  if (sourceChanged && opts.live && device !== 'cdrom' && device !== 'floppy') {
    throw virtError(ErrorCode.CONFIG_UNSUPPORTED, 'disk source can be changed only in removable drives');
  }
  if (!sourceChanged) return { change: 'none' };
  current.removeChildren('source');
  const src = wanted.child('source');
  if (src) current.insertOrdered(cloneNode(src) as XmlElement, DISK_ORDER);
  if (wanted.attr('type')) current.setAttr('type', wanted.attr('type'));
  return { change: 'media' };
}

/** Fields of an interface that may change on a running domain (besides link). */
const LIVE_TUNABLE = ['link', 'bandwidth', 'filterref', 'coalesce'];

function updateInterface(current: XmlElement, wanted: XmlElement, opts: UpdateOptions): UpdateOutcome {
  const w = wanted.clone();
  // Callers may omit what only the hypervisor chose; libvirt copies it from the old device before comparing.
  for (const name of ['mac', 'target', 'alias', 'address', 'rom', 'boot']) copyIfMissing(current, w, name, INTERFACE_ORDER);
  const curMac = parseMac(current.child('mac')?.attr('address') ?? '');
  const newMac = parseMac(w.child('mac')?.attr('address') ?? '');
  if (curMac !== newMac) {
    throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `cannot change network interface mac address from ${curMac} to ${newMac}`);
  }
  const curModel = current.child('model')?.attr('type');
  const newModel = w.child('model')?.attr('type');
  if (curModel !== newModel) {
    throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `cannot modify network device model from ${curModel ?? '(default)'} to ${newModel ?? '(default)'}`);
  }
  const curTarget = current.child('target')?.attr('dev');
  const newTarget = w.child('target')?.attr('dev');
  if (curTarget !== newTarget) {
    throw virtError(ErrorCode.OPERATION_UNSUPPORTED, 'cannot modify network device tap name');
  }
  const strip = (e: XmlElement): XmlElement => {
    const c = e.clone();
    for (const n of LIVE_TUNABLE) c.removeChildren(n);
    return c;
  };
  if (opts.live) {
    const diff = xmlDiff(strip(current), strip(w));
    if (diff) {
      throw virtError(
        ErrorCode.OPERATION_UNSUPPORTED,
        `unable to change config on '${current.attr('type')}' network type: only link state, bandwidth, filterref and coalesce can change on a running domain (${diff})`,
      );
    }
  }
  const before = current.child('link')?.attr('state') ?? 'up';
  const after = w.child('link')?.attr('state') ?? 'up';
  // Replace content wholesale: the persistent definition takes the new XML as is.
  current.attrs = w.attrs.map(([k, v]) => [k, v]);
  current.children = w.children;
  return { change: before !== after ? 'link' : 'other' };
}

/**
 * The display an update names: the first of its type (qemuDomainFindGraphicsIndex), else libvirt's
 * DEVICE_MISSING (live) or INVALID_ARG (config).
 */
export function findGraphicsForUpdate(devices: readonly XmlElement[], wanted: XmlElement, live: boolean): XmlElement {
  const type = wanted.attr('type') ?? '';
  const hit = devices.find((d) => d.name === 'graphics' && d.attr('type') === type);
  if (hit) return hit;
  if (live) throw virtError(ErrorCode.DEVICE_MISSING, `cannot find existing graphics device to modify of type '${type}'`);
  throw virtError(ErrorCode.INVALID_ARG, `cannot find existing graphics type '${type}' device to modify`);
}

const PASSWORD_ATTRS = ['passwd', 'passwdValidTo', 'connected'];

function refuseGraphics(detail: string): never {
  throw virtError(ErrorCode.OPERATION_UNSUPPORTED, detail);
}

/** A running display's listens must stay as they are (qemuDomainChangeGraphics). */
function checkListens(old: XmlElement, wanted: XmlElement, type: string): void {
  const before = old.elements('listen');
  const after = wanted.elements('listen');
  if (before.length !== after.length) refuseGraphics(`cannot change the number of listen addresses on '${type}' graphics`);
  for (let i = 0; i < after.length; i++) {
    const a = before[i]!;
    const b = after[i]!;
    const kind = b.attr('type');
    if (a.attr('type') !== kind) refuseGraphics(`cannot change the type of listen address on '${type}' graphics`);
    if (kind === 'address' && a.attr('address') !== b.attr('address')) refuseGraphics(`cannot change listen address setting on '${type}' graphics`);
    if (kind === 'network' && a.attr('network') !== b.attr('network')) refuseGraphics(`cannot change listen address setting on '${type}' graphics`);
    if (kind === 'socket' && a.attr('socket') !== b.attr('socket')) refuseGraphics(`cannot change listen socket setting on '${type}' graphics`);
  }
}

/**
 * Graphics: the definition takes the new element as parsed; a running VNC or SPICE display changes
 * only its password (passwd, passwdValidTo, connected), and listens, ports and keymap must stay.
 * Other display types change nothing live (libvirt reports it but returns success).
 */
function updateGraphics(current: XmlElement, wanted: XmlElement, opts: UpdateOptions): UpdateOutcome {
  const w = wanted.clone();
  normalizeGraphicsElement(w);
  if (!opts.live) {
    current.attrs = w.attrs;
    current.children = w.children;
    return { change: 'other' };
  }
  const old = current.clone();
  normalizeGraphicsElement(old);
  const type = w.attr('type') ?? '';
  checkListens(old, w, type);
  if (type !== 'vnc' && type !== 'spice') return { change: 'none' };
  const autoport = w.attr('autoport') === 'yes';
  const ports = type === 'vnc' ? ['port'] : ['port', 'tlsPort'];
  if ((old.attr('autoport') === 'yes') !== autoport || (!autoport && ports.some((p) => (old.attr(p) ?? '0') !== (w.attr(p) ?? '0')))) {
    refuseGraphics(`cannot change port settings on ${type} graphics`);
  }
  if (old.attr('keymap') !== w.attr('keymap')) refuseGraphics(`cannot change keymap setting on ${type} graphics`);
  const connected = (e: XmlElement) => e.attr('connected') ?? 'default';
  const passwordChange =
    old.hasAttr('passwdValidTo') ||
    w.hasAttr('passwdValidTo') ||
    connected(old) !== connected(w) ||
    (type === 'spice' && connected(w) === 'disconnect') ||
    old.attr('passwd') !== w.attr('passwd');
  if (!passwordChange) return { change: 'none' };
  for (const a of PASSWORD_ATTRS) {
    const v = w.attr(a);
    if (v === undefined) current.removeAttr(a);
    else current.setAttr(a, v);
  }
  return { change: 'other' };
}

/** Applies an update in place on the matched device element. */
export function updateDeviceElement(current: XmlElement, wanted: XmlElement, opts: UpdateOptions): UpdateOutcome {
  switch (wanted.name) {
    case 'disk':
      return updateDisk(current, wanted, opts);
    case 'interface':
      return updateInterface(current, wanted, opts);
    case 'graphics':
      return updateGraphics(current, wanted, opts);
    default:
      throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `update of device '${wanted.name}' is not supported`);
  }
}
