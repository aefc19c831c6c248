/**
 * The one error type of virtkit. Codes and domains are libvirt's numbers
 * (include/libvirt/virterror.h), so they survive the remote protocol unchanged.
 */

/** libvirt's virErrorNumber values used by virtkit. */
export const ErrorCode = {
  INTERNAL_ERROR: 1,
  NO_SUPPORT: 3,
  INVALID_CONN: 6,
  INVALID_DOMAIN: 7,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  NO_TARGET: 20,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  OPEN_FAILED: 30,
  READ_FAILED: 31,
  WRITE_FAILED: 34,
  XML_DETAIL: 35,
  SYSTEM_ERROR: 38,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  INVALID_MAC: 44,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  OPERATION_INVALID: 55,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  ARGUMENT_UNSUPPORTED: 74,
  OPERATION_UNSUPPORTED: 84,
  RESOURCE_BUSY: 87,
  XML_INVALID_SCHEMA: 92,
  DEVICE_MISSING: 99,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** libvirt's virErrorDomain values used by virtkit. */
export const ErrorDomain = {
  NONE: 0,
  XML: 5,
  CONF: 9,
  QEMU: 10,
  TEST: 12,
  REMOTE: 13,
  DOMAIN: 20,
  CLI: 0,
} as const;
export type ErrorDomain = (typeof ErrorDomain)[keyof typeof ErrorDomain];

const codeNames: Record<number, string> = Object.fromEntries(
  Object.entries(ErrorCode).map(([k, v]) => [v, `VIR_ERR_${k}`]),
);

const brand = Symbol.for('virtkit.VirtError');

/** An error carrying libvirt's numeric code and error domain. */
export class VirtError extends Error {
  readonly code: number;
  readonly domain: number;
  /** libvirt's level: 2 = error. */
  readonly level = 2;

  constructor(code: number, message: string, options?: { domain?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VirtError';
    this.code = code;
    this.domain = options?.domain ?? ErrorDomain.DOMAIN;
    (this as unknown as Record<symbol, boolean>)[brand] = true;
  }

  /** `VIR_ERR_*` name of the code, e.g. `VIR_ERR_DEVICE_MISSING`. */
  get codeName(): string {
    return codeNames[this.code] ?? `VIR_ERR_${this.code}`;
  }

  /** Brand check for VirtError itself (works across duplicate installs); subclasses keep the prototype check. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: the receiver is what tells VirtError from its subclasses
    if (this !== VirtError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
  }

  /** Wraps anything thrown into a VirtError, keeping an existing one as is. */
  static from(err: unknown, code: number = ErrorCode.INTERNAL_ERROR): VirtError {
    if (err instanceof VirtError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new VirtError(code, message, { cause: err });
  }
}

/** libvirt's message prefix per code (src/util/virerror.c), so messages read as virsh users know them. */
const prefixes: Record<number, string> = {
  [ErrorCode.INTERNAL_ERROR]: 'internal error: ',
  [ErrorCode.NO_SUPPORT]: 'this function is not supported by the connection driver: ',
  [ErrorCode.INVALID_ARG]: 'invalid argument: ',
  [ErrorCode.OPERATION_FAILED]: 'operation failed: ',
  [ErrorCode.XML_ERROR]: 'XML error: ',
  [ErrorCode.OPERATION_DENIED]: 'operation forbidden: ',
  [ErrorCode.NO_DOMAIN]: 'Domain not found: ',
  [ErrorCode.NO_NETWORK]: 'Network not found: ',
  [ErrorCode.NO_STORAGE_POOL]: 'Storage pool not found: ',
  [ErrorCode.NO_STORAGE_VOL]: 'Storage volume not found: ',
  [ErrorCode.OPERATION_INVALID]: 'Requested operation is not valid: ',
  [ErrorCode.CONFIG_UNSUPPORTED]: 'unsupported configuration: ',
  [ErrorCode.OPERATION_TIMEOUT]: 'Timed out during operation: ',
  [ErrorCode.OPERATION_UNSUPPORTED]: 'Operation not supported: ',
  [ErrorCode.DEVICE_MISSING]: 'device not found: ',
  [ErrorCode.XML_INVALID_SCHEMA]: 'XML document failed to validate against schema: ',
};

/** Builds a VirtError whose message carries libvirt's prefix for the code: `virtError(ErrorCode.NO_DOMAIN, "no domain with matching name 'x'")`. */
export function virtError(code: number, detail: string, domain?: number): VirtError {
  return new VirtError(code, (prefixes[code] ?? '') + detail, { domain });
}

export function isVirtError(err: unknown, code?: number): err is VirtError {
  return err instanceof VirtError && (code === undefined || err.code === code);
}
