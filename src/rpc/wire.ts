/**
 * Conversions between the wire's shapes and virtkit's: domains (`remote_nonnull_domain`, UUID as 16
 * raw bytes) and errors (`remote_error`, carrying libvirt's code, domain and message unchanged).
 */
import { ErrorCode, VirtError } from '../errors.js';
import type { DomainRef } from '../shared/events.js';
import type { RemoteError, RemoteNonnullDomain } from './generated/remote-protocol.js';

/** libvirt's VIR_ERR_RPC: a protocol-level failure. */
export const VIR_ERR_RPC = 39;
/** libvirt's VIR_FROM_RPC error domain. */
export const VIR_FROM_RPC = 7;

/** Hex digit values by character code (-1: not a hex digit), and the two digits of every byte. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;
  HEX_VALUE['0123456789ABCDEF'.charCodeAt(i)] = i;
}
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
/** Where the canonical 36-character form puts its dashes. */
const DASHES = [8, 13, 18, 23];

/** The canonical form read in one pass (every reply naming a domain carries its UUID); null when it is not that form. */
function canonicalUuidBytes(uuid: string): Buffer | null {
  if (uuid.length !== 36) return null;
  for (const at of DASHES) if (uuid.charCodeAt(at) !== 45) return null;
  const out = Buffer.allocUnsafe(16);
  let i = 0;
  for (let b = 0; b < 16; b++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) i++;
    const hi = uuid.charCodeAt(i);
    const lo = uuid.charCodeAt(i + 1);
    const v = hi < 128 && lo < 128 ? (HEX_VALUE[hi]! << 4) | HEX_VALUE[lo]! : -1;
    if (v < 0) return null;
    out[b] = v;
    i += 2;
  }
  return out;
}

export function uuidBytes(uuid: string): Buffer {
  const fast = canonicalUuidBytes(uuid);
  if (fast) return fast;
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new VirtError(ErrorCode.INVALID_ARG, `invalid UUID '${uuid}'`);
  return Buffer.from(hex, 'hex');
}

export function uuidString(bytes: Uint8Array): string {
  if (bytes.length !== 16) {
    const h = Buffer.from(bytes).toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  }
  const x = (i: number): string => HEX_BYTE[bytes[i]!]!;
  return `${x(0)}${x(1)}${x(2)}${x(3)}-${x(4)}${x(5)}-${x(6)}${x(7)}-${x(8)}${x(9)}-${x(10)}${x(11)}${x(12)}${x(13)}${x(14)}${x(15)}`;
}

export function toWireDomain(d: DomainRef): RemoteNonnullDomain {
  return { name: d.name, uuid: uuidBytes(d.uuid), id: d.id };
}

export function fromWireDomain(d: RemoteNonnullDomain): DomainRef {
  return { name: d.name, uuid: uuidString(d.uuid), id: d.id };
}

/** The error body of a failed reply, from whatever a handler threw. */
export function toWireError(err: unknown): RemoteError {
  const e = err instanceof VirtError ? err : new VirtError(ErrorCode.INTERNAL_ERROR, `internal error: ${err instanceof Error ? err.message : String(err)}`);
  return { code: e.code, domain: e.domain, message: e.message, level: e.level, dom: null, str1: null, str2: null, str3: null, int1: 0, int2: 0, net: null };
}

/** A VirtError with the code, domain and message the peer reported. */
export function fromWireError(e: RemoteError): VirtError {
  return new VirtError(e.code, e.message ?? 'unknown error', { domain: e.domain });
}

export function rpcError(message: string): VirtError {
  return new VirtError(VIR_ERR_RPC, message, { domain: VIR_FROM_RPC });
}

