/** Memory sizes with libvirt's unit suffixes, normalised to KiB as libvirt stores them. */
import { ErrorCode, virtError } from '../errors.js';
import { describeValue } from '../shared/describe-value.js';
import { own } from '../shared/own.js';

const scale: Record<string, number> = {
  b: 1,
  byte: 1,
  bytes: 1,
  kb: 1000,
  k: 1024,
  kib: 1024,
  mb: 1000 ** 2,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1000 ** 3,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  tb: 1000 ** 4,
  t: 1024 ** 4,
  tib: 1024 ** 4,
  pb: 1000 ** 5,
  p: 1024 ** 5,
  pib: 1024 ** 5,
  eb: 1000 ** 6,
  e: 1024 ** 6,
  eib: 1024 ** 6,
};

/** Converts a sized value to bytes (exact); throws XML_ERROR naming `what`. */
export function toBytes(value: string, unit: string | undefined, what: string): bigint {
  checkArgs('toBytes', value, unit, what);
  const u = (unit ?? 'bytes').toLowerCase();
  const factor = own(scale, u);
  if (factor === undefined) throw virtError(ErrorCode.XML_ERROR, `unknown unit '${unit}' in ${what}`);
  const v = value.trim();
  if (!/^\d+$/.test(v)) throw virtError(ErrorCode.XML_ERROR, `invalid value '${value}' for ${what}: expected a non-negative integer`);
  return BigInt(v) * BigInt(factor);
}

/** Exported helpers are called with anything: a value of the wrong type is INVALID_ARG naming it. */
function checkArgs(fn: string, value: unknown, unit: unknown, what: unknown): void {
  const bad = (name: string, expected: string, got: unknown) => virtError(ErrorCode.INVALID_ARG, `${name} in ${fn} must be ${expected}, got ${describeValue(got)}`);
  if (typeof value !== 'string') throw bad('value', 'a string', value);
  if (unit !== undefined && typeof unit !== 'string') throw bad('unit', 'a string or undefined', unit);
  if (typeof what !== 'string') throw bad('what', 'a string', what);
}

/** Converts `<memory unit='X'>N</memory>` to KiB, rounding up like libvirt; throws XML_ERROR naming `what`. */
export function toKiB(value: string, unit: string | undefined, what: string): number {
  checkArgs('toKiB', value, unit, what);
  const u = (unit ?? 'KiB').toLowerCase();
  const factor = own(scale, u);
  if (factor === undefined) throw virtError(ErrorCode.XML_ERROR, `unknown unit '${unit}' in ${what}`);
  const v = value.trim();
  if (!/^\d+$/.test(v)) throw virtError(ErrorCode.XML_ERROR, `invalid value '${value}' for ${what}: expected a non-negative integer`);
  if (v.length <= 15) {
    // Exact in doubles: the value has at most 15 digits and a product below 2^53 is computed exactly
    // (a larger one rounds to 2^53 or more and takes the BigInt path); dividing by 1024 only shifts the exponent.
    const small = Number(v) * factor;
    if (small <= Number.MAX_SAFE_INTEGER) return Math.ceil(small / 1024);
  }
  const bytes = BigInt(v) * BigInt(factor);
  const kib = (bytes + 1023n) / 1024n;
  if (kib > BigInt(Number.MAX_SAFE_INTEGER)) throw virtError(ErrorCode.XML_ERROR, `value '${value}${unit ?? ''}' for ${what} is too large`);
  return Number(kib);
}
