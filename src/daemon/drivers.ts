/**
 * The drivers virtkitd hosts. A client names a driver by URI in CONNECT_OPEN (`test:///default`,
 * `qemu:///session`, ...); every client naming the same URI shares one driver instance while any of
 * them is connected (so they see each other's domains, as with libvirtd), and the instance is closed
 * when the last one leaves — for `test:///default` that resets it, as libvirt's test driver does.
 * URIs from the wire never carry options: a client must not choose folders or timeouts on the host
 * (`?state=` would let it write anywhere the daemon can); the operator sets them on the command line.
 */
import type { Driver } from '../drivers/driver.js';
import { openDriver, parseUri } from '../drivers/registry.js';
import { ErrorCode, virtError } from '../errors.js';

export interface DriverHostOptions {
  /** URI opened when a client sends none. */
  defaultUri: string;
  /** Keeps test:///default in this folder (test:///default?state=DIR) instead of in memory. */
  testStateDir?: string;
  /** Keeps the QEMU driver's state, sockets and logs under this folder (qemu:///...?root=DIR). */
  qemuRoot?: string;
  /** How long a live detach waits for the guest before reporting pending. */
  unplugTimeoutMs?: number;
  /** Opens a driver (tests substitute nothing here; it is the registry). */
  open?: (uri: string) => Promise<Driver>;
}

export interface Lease {
  readonly driver: Driver;
  /** The normalised URI the client asked for. */
  readonly uri: string;
  release(): Promise<void>;
}

interface Entry {
  opening: Promise<Driver>;
  refs: number;
}

export class DriverHost {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: DriverHostOptions;

  constructor(opts: DriverHostOptions) {
    this.#opts = opts;
  }

  /** The URI a client's CONNECT_OPEN name stands for, or a VirtError saying why it cannot be served. */
  normalise(name: string | null): string {
    const uri = name === null || name === '' ? this.#opts.defaultUri : name;
    const p = parseUri(uri);
    if (p.transport) {
      throw virtError(ErrorCode.NO_SUPPORT, `virtkitd does not forward connections: '${uri}' names the transport '${p.transport}'`);
    }
    if (p.host !== '') throw virtError(ErrorCode.NO_SUPPORT, `virtkitd serves local drivers only: '${uri}' names the host '${p.host}'`);
    const keys = [...p.params.keys()];
    if (keys.length) {
      throw virtError(ErrorCode.INVALID_ARG, `parameter '${keys[0]}' in URI '${uri}' is not accepted over the network: virtkitd's options choose it`);
    }
    return `${p.scheme}://${p.path}`;
  }

  /** The URI actually opened on the host for a normalised client URI. */
  #hostUri(uri: string): string {
    const params = new URLSearchParams();
    if (uri === 'test:///default' && this.#opts.testStateDir) params.set('state', this.#opts.testStateDir);
    if (uri.startsWith('qemu:') && this.#opts.qemuRoot) params.set('root', this.#opts.qemuRoot);
    if (this.#opts.unplugTimeoutMs !== undefined && (uri.startsWith('test:') || uri.startsWith('qemu:'))) params.set('unplugTimeout', String(this.#opts.unplugTimeoutMs));
    const q = params.toString();
    return q ? `${uri}?${q}` : uri;
  }

  async acquire(name: string | null): Promise<Lease> {
    const uri = this.normalise(name);
    let entry = this.#entries.get(uri);
    if (!entry) {
      const open = this.#opts.open ?? ((u: string) => openDriver(u, {}));
      entry = { opening: open(this.#hostUri(uri)), refs: 0 };
      this.#entries.set(uri, entry);
      entry.opening.catch(() => {
        if (this.#entries.get(uri) === entry) this.#entries.delete(uri);
      });
    }
    entry.refs++;
    let driver: Driver;
    try {
      driver = await entry.opening;
    } catch (err) {
      entry.refs--;
      throw err;
    }
    let released = false;
    const e = entry;
    return {
      driver,
      uri,
      release: async () => {
        if (released) return;
        released = true;
        if (--e.refs > 0) return;
        if (this.#entries.get(uri) === e) this.#entries.delete(uri);
        await driver.close();
      },
    };
  }

  /** Number of drivers open now (for tests and status). */
  get openCount(): number {
    return this.#entries.size;
  }
}
