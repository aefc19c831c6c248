/** Device `<address>` elements: PCI and drive addresses, read, compared and written in libvirt's notation. */
import { ErrorCode, virtError } from '../errors.js';
import { trimmed, XmlElement } from '../xml/index.js';

export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
  multifunction?: string;
}

export interface DriveAddress {
  controller: number;
  bus: number;
  target: number;
  unit: number;
}

/** Value of the hex digit `c` (a char code), or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}

/** `0x` + hex digits or decimal digits, read without a regex (addresses are read many times per define); NaN otherwise. */
function unsigned(v: string): number {
  const hex = v.length > 2 && v.charCodeAt(0) === 48 && (v.charCodeAt(1) | 0x20) === 120;
  if (v.length === 0) return Number.NaN;
  let n = 0;
  for (let i = hex ? 2 : 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const d = hex ? hexDigit(c) : c >= 48 && c <= 57 ? c - 48 : -1;
    if (d < 0) return Number.NaN;
    n = n * (hex ? 16 : 10) + d;
  }
  return n;
}

function num(value: string | undefined, what: string, max: number): number {
  if (value === undefined || value === '') return 0;
  const n = unsigned(trimmed(value));
  if (!Number.isFinite(n) || n > max) throw virtError(ErrorCode.XML_ERROR, `invalid ${what} '${value}' in <address>`);
  return n;
}

/** The `<address>` child of a device element, if any. */
export function addressElement(dev: XmlElement): XmlElement | undefined {
  return dev.child('address');
}

/**
 * A device's PCI address as one number (pciAddressNumber), -1 without `<address type='pci'>`; the same
 * checks as readPciAddress, without building an object (the PCI pass reads every device's address).
 */
export function pciAddressNumberOf(dev: XmlElement): number {
  const a = dev.child('address');
  if (a?.attr('type') !== 'pci') return -1;
  const domain = num(a.attr('domain'), 'PCI domain', 0xffff);
  const bus = num(a.attr('bus'), 'PCI bus', 0xff);
  const slot = num(a.attr('slot'), 'PCI slot', 0x1f);
  return ((domain * 256 + bus) * 32 + slot) * 8 + num(a.attr('function'), 'PCI function', 7);
}

/** PCI address of a device, when it has `<address type='pci'>`. Throws XML_ERROR for out-of-range fields. */
export function readPciAddress(dev: XmlElement): PciAddress | undefined {
  const a = dev.child('address');
  if (a?.attr('type') !== 'pci') return undefined;
  return {
    domain: num(a.attr('domain'), 'PCI domain', 0xffff),
    bus: num(a.attr('bus'), 'PCI bus', 0xff),
    slot: num(a.attr('slot'), 'PCI slot', 0x1f),
    function: num(a.attr('function'), 'PCI function', 7),
    multifunction: a.attr('multifunction'),
  };
}

/** Drive address of a device, when it has `<address type='drive'>`. */
export function readDriveAddress(dev: XmlElement): DriveAddress | undefined {
  const a = dev.child('address');
  if (a?.attr('type') !== 'drive') return undefined;
  return {
    controller: num(a.attr('controller'), 'drive controller', 0xffff),
    bus: num(a.attr('bus'), 'drive bus', 0xffff),
    target: num(a.attr('target'), 'drive target', 0xffff),
    unit: num(a.attr('unit'), 'drive unit', 0xffff),
  };
}

const hex = (n: number, width: number): string => '0x' + n.toString(16).padStart(width, '0');

/** `0x00`..`0xff`: bus and slot numbers as printed, made once (every define writes several). */
const HEX2: readonly string[] = Array.from({ length: 256 }, (_, n) => hex(n, 2));
const hex2 = (n: number): string => HEX2[n] ?? hex(n, 2);

/** `0000:00:03.0`, as libvirt prints PCI addresses in messages. */
export function formatPciAddress(a: PciAddress): string {
  return `${a.domain.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}:${a.slot.toString(16).padStart(2, '0')}.${a.function}`;
}

/** One number per PCI function (domain, bus, slot, function), for sets and maps of addresses. */
export function pciAddressNumber(a: PciAddress): number {
  return ((a.domain * 256 + a.bus) * 32 + a.slot) * 8 + a.function;
}

export function pciAddressElement(a: PciAddress): XmlElement {
  const attrs: [string, string][] = [
    ['type', 'pci'],
    ['domain', a.domain === 0 ? '0x0000' : hex(a.domain, 4)],
    ['bus', hex2(a.bus)],
    ['slot', hex2(a.slot)],
    ['function', hex(a.function, 1)],
  ];
  if (a.multifunction !== undefined) attrs.push(['multifunction', a.multifunction]);
  return new XmlElement('address', attrs);
}

export function driveAddressElement(a: DriveAddress): XmlElement {
  return new XmlElement('address', [
    ['type', 'drive'],
    ['controller', String(a.controller)],
    ['bus', String(a.bus)],
    ['target', String(a.target)],
    ['unit', String(a.unit)],
  ]);
}

/** A comparable key for any address (type plus its attributes in a fixed order). */
export function addressKey(dev: XmlElement): string | undefined {
  const a = dev.child('address');
  if (!a) return undefined;
  const type = a.attr('type') ?? '';
  if (type === 'pci') return 'pci:' + formatPciAddress(readPciAddress(dev)!);
  if (type === 'drive') {
    const d = readDriveAddress(dev)!;
    return `drive:${d.controller}:${d.bus}:${d.target}:${d.unit}`;
  }
  const attrs = a.attrs
    .filter(([k]) => k !== 'type')
    .map(([k, v]) => `${k}=${/^0x/i.test(v) ? Number.parseInt(v, 16) : v}`)
    .sort()
    .join(',');
  return `${type}:${attrs}`;
}
