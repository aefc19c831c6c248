/** Picks the driver for a connection URI. */
import type { QemuHost } from '../conf/caps/types.js';
import { ErrorCode, VirtError } from '../errors.js';
import type { ListenerErrorHandler } from '../shared/event-hub.js';
import type { Driver } from './driver.js';

export interface OpenOptions {
  /**
   * Test driver: how long a live detach waits for the guest's unplug acknowledgement
   * before returning `pending` (libvirt's QEMU driver waits 5000 ms). Also `?unplugTimeout=MS` in the URI.
   */
  unplugTimeoutMs?: number;
  /**
   * Receives what an event listener threw (or its promise rejected with) and the event it was
   * handling. Without it, such an error becomes a process warning named `VirtkitListenerError`.
   * Either way it never reaches the call that caused the event, nor other listeners.
   */
  onListenerError?: ListenerErrorHandler;
  /**
   * The QEMU host (binaries and their capabilities, driver config) qemu/kvm domains are normalized for at
   * define and attach, as libvirt's QEMU driver does with its binaries. Default: QEMU 7.2 on x86_64.
   */
  qemuHost?: QemuHost;
}

export interface ParsedUri {
  scheme: string;
  transport?: string;
  host: string;
  path: string;
  params: URLSearchParams;
}

/** Splits `driver[+transport]://[host]/path[?query]`. */
export function parseUri(uri: string): ParsedUri {
  const m = /^([a-z][a-z0-9]*)(?:\+([a-z]+))?:\/\/([^/?]*)(\/[^?]*)?(?:\?(.*))?$/i.exec(uri);
  if (!m) throw new VirtError(ErrorCode.INVALID_ARG, `invalid connection URI '${uri}': expected driver:///path`);
  return {
    scheme: m[1]!.toLowerCase(),
    transport: m[2]?.toLowerCase(),
    host: m[3] ?? '',
    path: m[4] ?? '',
    params: new URLSearchParams(m[5] ?? ''),
  };
}

export async function openDriver(uri: string, options: OpenOptions): Promise<Driver> {
  const parsed = parseUri(uri);
  // As libvirt: a transport, a host or a socket means the remote driver (libvirtd or virtkitd).
  if (parsed.transport || parsed.host !== '' || parsed.params.has('socket')) {
    const { openRemoteDriver } = await import('./remote/index.js');
    return openRemoteDriver(uri, parsed, options);
  }
  if (parsed.scheme === 'test' && !parsed.transport && parsed.host === '') {
    const { openTestDriver } = await import('./test/index.js');
    return openTestDriver(uri, parsed, options);
  }
  if (parsed.scheme === 'qemu' && !parsed.transport && parsed.host === '') {
    const { openQemuDriver } = await import('./qemu/index.js');
    return openQemuDriver(uri, parsed, options);
  }
  throw new VirtError(
    ErrorCode.NO_SUPPORT,
    `no connection driver available for '${uri}' (supported: test:///default, test:///default?state=DIR, qemu:///session, qemu:///system, and remote URIs such as qemu+unix:///system?socket=PATH, qemu+tcp://HOST/system, qemu+ssh://HOST/system)`,
  );
}
