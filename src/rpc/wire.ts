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

export function uuidBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new VirtError(ErrorCode.INVALID_ARG, `invalid UUID '${uuid}'`);
  return Buffer.from(hex, 'hex');
}

export function uuidString(bytes: Uint8Array): string {
  const h = Buffer.from(bytes).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
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

