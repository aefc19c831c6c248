/** libvirt's answer for an API the connection's driver does not implement. */
import { ErrorCode, virtError } from '../errors.js';

/** VIR_ERR_NO_SUPPORT with libvirt's words, naming the API. */
export function unsupported(api: string): Error {
  return virtError(ErrorCode.NO_SUPPORT, api);
}

/** The driver's method when it has one, else VIR_ERR_NO_SUPPORT for `api`. */
export function need<T>(method: T | undefined, api: string): T {
  if (method === undefined) throw unsupported(api);
  return method;
}
