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

// Random bytes are drawn from a pool: one getrandom call per 1365 MACs instead of one each.
let pool = Buffer.alloc(0);
let poolAt = 0;
const hex2 = (n: number): string => (n < 16 ? '0' : '') + n.toString(16);

/** A random unicast MAC under the given three-byte prefix. */
export function generateMac(prefix: string): string {
  if (poolAt + 3 > pool.length) {
    pool = randomBytes(4095);
    poolAt = 0;
  }
  const mac = `${prefix}:${hex2(pool[poolAt]!)}:${hex2(pool[poolAt + 1]!)}:${hex2(pool[poolAt + 2]!)}`;
  poolAt += 3;
  return mac;
}
