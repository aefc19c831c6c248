/** MAC addresses: parsing, the multicast check, and generation with a driver's OUI prefix. */
import { randomBytes } from 'node:crypto';
import { ErrorCode, virtError } from '../errors.js';

/** QEMU/KVM (and the test driver) prefix. */
export const QEMU_MAC_PREFIX = '52:54:00';
/** Xen (libxl) prefix. */
export const XEN_MAC_PREFIX = '00:16:3e';

/** Normalises a MAC to lower-case `aa:bb:cc:dd:ee:ff`; throws XML_ERROR for a malformed or multicast address. */
export function parseMac(text: string): string {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw virtError(ErrorCode.XML_ERROR, `unable to parse mac address '${text}'`);
  }
  const mac = parts.map((p) => p.padStart(2, '0').toLowerCase()).join(':');
  if ((Number.parseInt(parts[0]!, 16) & 1) === 1) {
    throw virtError(ErrorCode.XML_ERROR, `expected unicast mac address, found multicast '${text}'`);
  }
  return mac;
}

/** A random unicast MAC under the given three-byte prefix. */
export function generateMac(prefix: string): string {
  const b = randomBytes(3);
  return `${prefix}:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}
