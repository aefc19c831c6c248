/**
 * Argument checks for every public call: a wrong type or range is VIR_ERR_INVALID_ARG naming the
 * argument and the libvirt function, before anything else runs (never a TypeError from deep inside,
 * never a silently truncated value).
 */
import { ErrorCode, virtError, type VirtError } from '../errors.js';
import { describeValue } from '../shared/describe-value.js';
import { type DetachOptions, MAX_WAIT_MS } from '../shared/hotplug-contract.js';
import { decodeXmlBytes } from '../xml/decode.js';

export { describeValue };

/** libvirt's flags are C `unsigned int`. */
export const MAX_UINT32 = 0xffff_ffff;
/** libvirt's ids and other `int` arguments. */
export const MAX_INT32 = 0x7fff_ffff;

function invalid(name: string, fn: string, expected: string, got: unknown): VirtError {
  return virtError(ErrorCode.INVALID_ARG, `${name} in ${fn} must be ${expected}, got ${describeValue(got)}`);
}

/** Flags: an unsigned 32-bit integer (negative, fractional, >= 2^32 or not a number is INVALID_ARG). */
export function checkFlagsArg(flags: unknown, fn: string): number {
  if (typeof flags !== 'number' || !Number.isInteger(flags) || flags < 0 || flags > MAX_UINT32) {
    throw invalid('flags', fn, 'an unsigned 32-bit integer', flags);
  }
  return flags;
}

/** A string, optionally non-empty and at most `maxLength` characters. */
export function checkStringArg(v: unknown, name: string, fn: string, opts: { nonEmpty?: boolean; maxLength?: number } = {}): string {
  if (typeof v !== 'string') throw invalid(name, fn, opts.nonEmpty ? 'a non-empty string' : 'a string', v);
  if (opts.nonEmpty && v === '') throw invalid(name, fn, 'a non-empty string', v);
  if (opts.maxLength !== undefined && v.length > opts.maxLength) {
    throw virtError(ErrorCode.INVALID_ARG, `${name} in ${fn} must be at most ${opts.maxLength} characters, got ${v.length}`);
  }
  return v;
}

/** An integer within [min, max]. */
export function checkIntArg(v: unknown, name: string, fn: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(name, fn, `an integer from ${min} to ${max}`, v);
  }
  return v;
}

/** XML text: a string, or bytes that must be UTF-8 (decoded strictly, within the 10 MiB limit); `source` names it in errors. */
export function checkXmlArg(v: unknown, name: string, fn: string, source: string): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return decodeXmlBytes(v, source);
  throw invalid(name, fn, 'a string (or UTF-8 bytes)', v);
}

/** A plain options object, or undefined (then `{}`). */
export function checkOptionsArg<T extends object>(v: unknown, name: string, fn: string): Partial<T> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(name, fn, 'an object', v);
  return v as Partial<T>;
}

/** A function (listeners, callbacks). */
export function checkFunctionArg<T extends (...args: never[]) => unknown>(v: unknown, name: string, fn: string): T {
  if (typeof v !== 'function') throw invalid(name, fn, 'a function', v);
  return v as T;
}

/**
 * An options object whose fields are strings, except the named booleans and string-or-number
 * fields; absent (undefined) fields are fine. For the device builders' virsh-style options.
 */
export function checkFieldsArg(v: unknown, name: string, fn: string, kinds: { booleans?: string[]; numeric?: string[] } = {}): void {
  const opts = checkOptionsArg<Record<string, unknown>>(v, name, fn);
  for (const [k, x] of Object.entries(opts)) {
    if (x === undefined) continue;
    if (kinds.booleans?.includes(k)) {
      if (typeof x !== 'boolean') throw invalid(`${name}.${k}`, fn, 'a boolean', x);
    } else if (kinds.numeric?.includes(k)) {
      if (typeof x !== 'string' && !(typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_INT32)) {
        throw invalid(`${name}.${k}`, fn, 'a string or a non-negative integer', x);
      }
    } else if (typeof x !== 'string') throw invalid(`${name}.${k}`, fn, 'a string', x);
  }
}

const DETACH_BOOLEANS = ['resend', 'ifPresent', 'isolate'] as const;
const DETACH_KEYS = ['waitMs', ...DETACH_BOOLEANS, 'ifBusy'];

/**
 * The hot-plug contract's detach options: a plain object of known keys, each of its type and range.
 * Returns a copy of the values read once (a getter cannot answer differently later); a key that is
 * not known is refused (a typo must not silently change nothing).
 */
export function checkDetachOptionsArg(v: unknown, fn: string): DetachOptions {
  const opts = checkOptionsArg<Record<string, unknown>>(v, 'options', fn);
  let entries: [string, unknown][];
  try {
    entries = Object.keys(opts).map((k) => [k, opts[k]]);
  } catch {
    throw virtError(ErrorCode.INVALID_ARG, `options in ${fn} could not be read`);
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of entries) {
    if (!DETACH_KEYS.includes(k)) {
      throw virtError(ErrorCode.INVALID_ARG, `unknown detach option '${k.length > 40 ? `${k.slice(0, 40)}…` : k}' in ${fn} (known: ${DETACH_KEYS.join(', ')})`);
    }
    if (x === undefined) continue;
    if (k === 'waitMs') checkIntArg(x, 'options.waitMs', fn, 0, MAX_WAIT_MS);
    else if (k === 'ifBusy') {
      if (x !== 'hold' && x !== 'fail') throw invalid('options.ifBusy', fn, "'hold' or 'fail'", x);
    } else if (typeof x !== 'boolean') throw invalid(`options.${k}`, fn, 'a boolean', x);
    out[k] = x;
  }
  return out as DetachOptions;
}
