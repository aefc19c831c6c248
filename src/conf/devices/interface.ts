/** `<interface>`: typed view, validation, define-time defaults, runtime-name stripping. */
import { ErrorCode, virtError } from '../../errors.js';
import { el, type XmlElement } from '../../xml/index.js';
import { generateMac, parseMac } from '../mac.js';
import { INTERFACE_ORDER } from './kinds.js';
import { readCommon, type DeviceCommon } from './common.js';

export interface InterfaceDef extends DeviceCommon {
  kind: 'interface';
  type: string;
  /** Normalised MAC, when the XML names one. */
  mac?: string;
  /** Source: network name, bridge, host device, ... */
  source?: string;
  /** `<target dev>`: the host-side name (vnet3, vif5.0, a user's tap). */
  targetDev?: string;
  model?: string;
  linkState?: string;
}

const NET_TYPES = new Set([
  'user',
  'ethernet',
  'vhostuser',
  'server',
  'client',
  'mcast',
  'udp',
  'network',
  'bridge',
  'internal',
  'direct',
  'hostdev',
  'vdpa',
  'null',
  'vds',
]);

export function interfaceSource(iface: XmlElement): string | undefined {
  const s = iface.child('source');
  if (!s) return undefined;
  return s.attr('network') ?? s.attr('bridge') ?? s.attr('dev') ?? s.attr('path') ?? s.attr('name') ?? s.attr('address');
}

/** Reads the typed fields; a malformed or multicast MAC throws XML_ERROR. */
export function readInterface(iface: XmlElement): InterfaceDef {
  const macText = iface.child('mac')?.attr('address');
  return {
    ...readCommon(iface),
    kind: 'interface',
    type: iface.attr('type') ?? 'user',
    mac: macText === undefined ? undefined : parseMac(macText),
    source: interfaceSource(iface),
    targetDev: iface.child('target')?.attr('dev'),
    model: iface.child('model')?.attr('type'),
    linkState: iface.child('link')?.attr('state'),
  };
}

/** `forMatch`: a detach/update XML only has to identify the device, so required-but-not-identifying parts may be missing. */
export function validateInterface(iface: XmlElement, forMatch = false): void {
  const type = iface.attr('type') ?? 'user';
  if (!NET_TYPES.has(type)) throw virtError(ErrorCode.XML_ERROR, `unknown interface type '${type}'`);
  const mac = iface.child('mac');
  if (mac) {
    const a = mac.attr('address');
    if (a === undefined) throw virtError(ErrorCode.XML_ERROR, "missing address attribute in interface <mac>");
    parseMac(a);
  }
  const link = iface.child('link')?.attr('state');
  if (link !== undefined && link !== 'up' && link !== 'down') {
    throw virtError(ErrorCode.XML_ERROR, `unknown interface link state '${link}'`);
  }
  if (forMatch) return;
  if (type === 'network' && !iface.child('source')?.attr('network')) {
    throw virtError(ErrorCode.XML_ERROR, "No <source> 'network' attribute specified with <interface type='network'/>");
  }
  if (type === 'bridge' && !iface.child('source')?.attr('bridge')) {
    throw virtError(ErrorCode.XML_ERROR, "No <source> 'bridge' attribute specified with <interface type='bridge'/>");
  }
}

/**
 * libvirt's parser default: an `<interface>` without `type` is `type='user'`, written first as
 * libvirt prints it. Not for a detach XML, where a missing type only means "not stated".
 */
export function defaultInterfaceType(iface: XmlElement): void {
  if (!iface.hasAttr('type')) iface.attrs.unshift(['type', 'user']);
}

/** Ensures `<mac address>`; returns true when the MAC had to be generated (libvirt's mac_generated). */
export function ensureMac(iface: XmlElement, prefix: string): boolean {
  const mac = iface.child('mac');
  if (mac?.attr('address') !== undefined) {
    mac.setAttr('address', parseMac(mac.attr('address')!));
    return false;
  }
  if (mac) mac.setAttr('address', generateMac(prefix));
  else iface.insertOrdered(el('mac', { address: generateMac(prefix) }), INTERFACE_ORDER);
  return true;
}

/**
 * Drops a `<target dev>` in a reserved (hypervisor-owned) prefix unless `managed='no'`:
 * such names are regenerated at start, so a stale dumped name never pins a device.
 */
export function stripGeneratedTarget(iface: XmlElement, reservedPrefixes: readonly string[]): void {
  const target = iface.child('target');
  const dev = target?.attr('dev');
  if (!target || dev === undefined) return;
  if (target.attr('managed') === 'no') return;
  if (reservedPrefixes.some((p) => dev.startsWith(p))) {
    target.removeAttr('dev');
    if (target.attrs.length === 0 && target.children.length === 0) iface.remove(target);
  }
}

/** Sets the host-side name in `<target dev>`, creating `<target>` in libvirt's order. */
export function setTargetDev(iface: XmlElement, dev: string): void {
  const target = iface.child('target');
  if (target) target.setAttr('dev', dev);
  else iface.insertOrdered(el('target', { dev }), INTERFACE_ORDER);
}

/** Interface types that get a host-side tap/macvtap name when started (others, like user, have none). */
export function hasHostSideName(type: string): boolean {
  return type === 'network' || type === 'bridge' || type === 'ethernet' || type === 'direct';
}
