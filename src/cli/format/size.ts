/** virsh's scaled sizes: `1G`, `512MiB`, `1GB` in, `100.00 GiB` out. */
import { ErrorCode, ErrorDomain, VirtError, virtError } from '../../errors.js';
import { CommandError } from '../errors.js';

const POWERS = ['k', 'm', 'g', 't', 'p', 'e'];

/** Bytes per unit for a suffix as virsh reads it (case-insensitive; `KiB`/`K` are 1024, `KB` is 1000). */
function suffixScale(suffix: string, defaultScale: number): bigint | undefined {
  if (suffix === '') return BigInt(defaultScale);
  const s = suffix.toLowerCase();
  if (s === 'b' || s === 'byte' || s === 'bytes') return 1n;
  const power = POWERS.indexOf(s[0]!);
  if (power < 0) return undefined;
  const rest = s.slice(1);
  const base = rest === '' || rest === 'ib' ? 1024n : rest === 'b' ? 1000n : undefined;
  return base === undefined ? undefined : base ** BigInt(power + 1);
}

/** virsh's message, followed by the parser's reason when it has one. */
function scaledError(option: string, value: string, detail?: string): VirtError {
  const head = `Scaled numeric value '${value}' for <${option}> option is malformed or out of range`;
  if (!detail) return new VirtError(ErrorCode.INVALID_ARG, head, { domain: ErrorDomain.NONE });
  return new CommandError(head, virtError(ErrorCode.INVALID_ARG, detail, ErrorDomain.NONE));
}

/**
 * A scaled integer option in bytes (a plain number counts `defaultScale` bytes), virsh's
 * checks and messages: negative or fractional values and unknown suffixes are refused.
 */
export function parseScaled(option: string, value: string, defaultScale: number, max: bigint = 2n ** 64n - 1n): bigint {
  const m = /^\s*(\+?\d+)(.*)$/.exec(value);
  if (!m) throw scaledError(option, value);
  const scale = suffixScale(m[2]!, defaultScale);
  if (scale === undefined) throw scaledError(option, value, `unknown suffix '${m[2]}'`);
  const bytes = BigInt(m[1]!) * scale;
  if (bytes > max) throw scaledError(option, value);
  return bytes;
}

/** KiB for a memory size given in bytes, rounded up as virsh does. */
export function bytesToKiB(bytes: bigint): number {
  return Number((bytes + 1023n) / 1024n);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

/** A size as virsh's vshPrettyCapacity shows it, with `digits` decimals: `100.00 GiB`, `0.00 B`. */
export function prettyCapacity(bytes: number, digits: number): string {
  let v = bytes;
  let unit = 0;
  while (v >= 1024 && unit < UNITS.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${v.toFixed(digits)} ${UNITS[unit]}`;
}
