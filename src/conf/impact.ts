/** Flag checks and LIVE/CONFIG resolution shared by every driver (libvirt's virDomainObjUpdateModificationImpact). */
import { ErrorCode, VirtError, virtError } from '../errors.js';
import { DeviceModify } from '../shared/flags.js';

/** DeviceModify.LIVE / CONFIG under libvirt's VIR_DOMAIN_AFFECT_* names. */
export const AFFECT_LIVE = DeviceModify.LIVE;
export const AFFECT_CONFIG = DeviceModify.CONFIG;

/** Rejects unknown flag bits like libvirt's virCheckFlags. */
export function checkFlags(flags: number, allowed: number, fn: string): void {
  // libvirt's flags are `unsigned int`: anything else is refused, never truncated by JS's 32-bit `&`.
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > 0xffff_ffff) {
    throw virtError(ErrorCode.INVALID_ARG, `flags in ${fn} must be an unsigned 32-bit integer, got ${typeof flags === 'number' ? flags : typeof flags}`);
  }
  // `>>> 0` reads the bitwise result as unsigned: 0x80000000 stays 0x80000000, not 0x-80000000.
  const extra = (flags & ~allowed) >>> 0;
  // libvirt's virCheckFlags message has no 'invalid argument:' prefix.
  if (extra !== 0) throw new VirtError(ErrorCode.INVALID_ARG, `unsupported flags (0x${extra.toString(16)}) in function ${fn}`);
}

export interface Impact {
  live: boolean;
  config: boolean;
}

/** CURRENT → LIVE when running else CONFIG; LIVE on a stopped domain and CONFIG on a transient one are OPERATION_INVALID. */
export function resolveImpact(flags: number, state: { active: boolean; persistent: boolean }): Impact {
  let live = (flags & AFFECT_LIVE) !== 0;
  let config = (flags & AFFECT_CONFIG) !== 0;
  if (!live && !config) {
    if (state.active) live = true;
    else config = true;
  }
  if (live && !state.active) throw virtError(ErrorCode.OPERATION_INVALID, 'domain is not running');
  if (config && !state.persistent) throw virtError(ErrorCode.OPERATION_INVALID, 'transient domains do not have any persistent config');
  return { live, config };
}
