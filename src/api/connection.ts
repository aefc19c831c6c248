/** The public entry point: `await Connection.open('test:///default')`. */
import { normalizeUuid } from '../conf/uuid.js';
import { ErrorCode, VirtError, virtError } from '../errors.js';
import {
  checkFlagsArg,
  checkFunctionArg,
  checkIntArg,
  checkOptionsArg,
  checkStringArg,
  checkXmlArg,
  describeValue,
  MAX_INT32,
} from './args.js';
import type { Driver, NetworkInfo, NodeInfo, StoragePoolInfo, StorageVolInfo } from '../drivers/driver.js';
import { need } from './unsupported.js';
import { openDriver, type OpenOptions } from '../drivers/registry.js';
import { Domain } from './domain.js';
import type { DefineOptions } from '../shared/hotplug-contract.js';
import type { DomainEventType, EventOf } from '../shared/events.js';
import { eventStream, type EventStream, type EventStreamOptions } from './event-stream.js';

/** Default URI when none is given: the embedded test driver. */
export const DEFAULT_URI = 'test:///default';

/** Longest connection URI accepted (libvirt's remote protocol caps strings far higher; URIs are short). */
const MAX_URI_LENGTH = 4096;

const EVENT_TYPES: ReadonlySet<string> = new Set<DomainEventType>(['lifecycle', 'device-added', 'device-removed', 'device-removal-failed']);

function checkEventType(v: unknown, name: string, fn: string): void {
  if (typeof v !== 'string' || !EVENT_TYPES.has(v)) {
    throw virtError(ErrorCode.INVALID_ARG, `${name} in ${fn} must be one of ${[...EVENT_TYPES].join(', ')}, got ${describeValue(v)}`);
  }
}

export class Connection {
  readonly #driver: Driver;
  #closed = false;

  private constructor(driver: Driver) {
    this.#driver = driver;
  }

  /** virConnectOpen. `test:///default` (in-process) and `test:///default?state=DIR` (shared on disk). */
  static async open(uri: string = DEFAULT_URI, options: OpenOptions = {}): Promise<Connection> {
    const fn = 'virConnectOpen';
    checkStringArg(uri, 'uri', fn, { nonEmpty: true, maxLength: MAX_URI_LENGTH });
    const opts = checkOptionsArg<OpenOptions>(options, 'options', fn);
    // options.unplugTimeoutMs is range-checked where the URI's ?unplugTimeout is (the driver registry).
    if (opts.onListenerError !== undefined) checkFunctionArg(opts.onListenerError, 'options.onListenerError', fn);
    if (opts.qemuHost !== undefined) checkOptionsArg(opts.qemuHost, 'options.qemuHost', fn);
    return new Connection(await openDriver(uri, opts));
  }

  /** @internal The driver behind this connection. */
  get driver(): Driver {
    this.#check();
    return this.#driver;
  }

  #check(): void {
    if (this.#closed) throw new VirtError(ErrorCode.INVALID_CONN, 'connection is closed');
  }

  /** virConnectClose */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#driver.close();
  }

  /** virConnectGetURI */
  getURI(): string {
    return this.driver.uri;
  }
  /** virConnectGetType */
  getType(): string {
    return this.driver.type;
  }
  /** virConnectGetHostname */
  getHostname(): Promise<string> {
    return this.driver.getHostname();
  }
  /** virConnectGetVersion */
  getVersion(): Promise<number> {
    return this.driver.getVersion();
  }

  /** virConnectListAllDomains with ListDomains flags. */
  async listAllDomains(flags = 0): Promise<Domain[]> {
    checkFlagsArg(flags, 'virConnectListAllDomains');
    const refs = await this.driver.listAllDomains(flags);
    return refs.map((r) => new Domain(this.#driver, r));
  }
  /** virDomainLookupByName */
  async lookupByName(name: string): Promise<Domain> {
    checkStringArg(name, 'name', 'virDomainLookupByName');
    return new Domain(this.#driver, await this.driver.lookupByName(name));
  }
  /** virDomainLookupByUUIDString */
  async lookupByUUID(uuid: string): Promise<Domain> {
    const fn = 'virDomainLookupByUUIDString';
    checkStringArg(uuid, 'uuidstr', fn);
    if (normalizeUuid(uuid) === undefined) throw virtError(ErrorCode.INVALID_ARG, `uuidstr in ${fn} must be a valid UUID, got ${describeValue(uuid)}`);
    return new Domain(this.#driver, await this.driver.lookupByUUID(uuid));
  }
  /** virDomainLookupByID */
  async lookupByID(id: number): Promise<Domain> {
    checkIntArg(id, 'id', 'virDomainLookupByID', 0, MAX_INT32);
    return new Domain(this.#driver, await this.driver.lookupByID(id));
  }
  /** Resolves a domain the way virsh does: by id (numeric), then UUID, then name. */
  async lookup(nameIdOrUuid: string): Promise<Domain> {
    checkStringArg(nameIdOrUuid, 'name, id or uuid', 'lookup');
    if (/^\d{1,10}$/.test(nameIdOrUuid) && Number(nameIdOrUuid) <= MAX_INT32) {
      try {
        return await this.lookupByID(Number(nameIdOrUuid));
      } catch (err) {
        if (!(err instanceof VirtError) || err.code !== ErrorCode.NO_DOMAIN) throw err;
      }
    }
    if (/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/.test(nameIdOrUuid)) {
      try {
        return await this.lookupByUUID(nameIdOrUuid);
      } catch (err) {
        if (!(err instanceof VirtError) || err.code !== ErrorCode.NO_DOMAIN) throw err;
      }
    }
    return this.lookupByName(nameIdOrUuid);
  }

  /** virDomainDefineXML */
  defineXML(xml: string | Uint8Array, options?: DefineOptions): Promise<Domain> {
    return this.defineXMLFlags(xml, 0, options);
  }
  /**
   * virDomainDefineXMLFlags (DomainDefine.VALIDATE checks libvirt's RelaxNG schema). With options, the
   * hot-plug contract's define: `hotplugSlots: N` reserves N free hot-plug slots (q35: empty pcie-root-ports).
   */
  async defineXMLFlags(xml: string | Uint8Array, flags: number, options?: DefineOptions): Promise<Domain> {
    const fn = 'virDomainDefineXMLFlags';
    const text = checkXmlArg(xml, 'xml', fn, 'domain definition');
    checkFlagsArg(flags, fn);
    if (options === undefined) return new Domain(this.#driver, await this.driver.defineXML(text, flags));
    if (!this.driver.hotplugContract) {
      throw virtError(ErrorCode.NO_SUPPORT, `define options: virtkit's hot-plug contract needs a driver that runs the domains (test:///, qemu:///); '${this.driver.uri}' cannot carry it`);
    }
    return new Domain(this.#driver, await this.driver.defineXML(text, flags, options));
  }
  /** virDomainCreateXML: starts a transient domain. */
  async createXML(xml: string | Uint8Array, flags = 0): Promise<Domain> {
    const fn = 'virDomainCreateXML';
    const text = checkXmlArg(xml, 'xml', fn, 'domain definition');
    checkFlagsArg(flags, fn);
    return new Domain(this.#driver, await this.driver.createXML(text, flags));
  }

  /**
   * Adds a typed listener. Resolves once events are being delivered (a remote connection
   * subscribes with a round trip) to a function that removes it. A listener that throws or
   * rejects never affects the call that caused the event (see `OpenOptions.onListenerError`).
   */
  async on<T extends DomainEventType>(type: T, listener: (event: EventOf<T>) => unknown): Promise<() => Promise<void>> {
    checkEventType(type, 'type', 'on');
    checkFunctionArg(listener, 'listener', 'on');
    const off = await this.driver.subscribe((e) => (e.type === type ? listener(e as EventOf<T>) : undefined));
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      await off();
    };
  }

  /**
   * Every event of this connection (optionally filtered) as an async iterator; `break` or
   * `return()` unsubscribes. `await stream.ready` to be sure the subscription is live before
   * causing events. At most `maxBuffered` unread events are kept (default 10,000): the oldest
   * are dropped first and counted in `stream.dropped`.
   */
  events(options: EventStreamOptions = {}, signal?: AbortSignal): EventStream {
    const fn = 'events';
    const opts = checkOptionsArg<EventStreamOptions>(options, 'options', fn);
    if (opts.types !== undefined) {
      if (!Array.isArray(opts.types)) throw virtError(ErrorCode.INVALID_ARG, `options.types in ${fn} must be an array of event types, got ${describeValue(opts.types)}`);
      for (const t of opts.types) checkEventType(t, 'options.types', fn);
    }
    if (opts.domain !== undefined) checkStringArg(opts.domain, 'options.domain', fn);
    if (opts.maxBuffered !== undefined) checkIntArg(opts.maxBuffered, 'options.maxBuffered', fn, 1, MAX_INT32);
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw virtError(ErrorCode.INVALID_ARG, `signal in ${fn} must be an AbortSignal, got ${describeValue(signal)}`);
    }
    return eventStream(this.driver, opts, signal);
  }

  /** virNodeGetInfo: the host's CPUs and memory as the driver reports them. */
  async nodeGetInfo(): Promise<NodeInfo> {
    const d = this.driver;
    return need(d.nodeGetInfo, 'virNodeGetInfo').call(d);
  }
  /** virConnectGetCapabilities: the capabilities XML of the host and its guests. */
  async getCapabilities(): Promise<string> {
    const d = this.driver;
    return need(d.getCapabilities, 'virConnectGetCapabilities').call(d);
  }
  /** virConnectGetDomainCapabilities: what domains of one emulator/arch/machine/virt type may use. */
  async getDomainCapabilities(emulator?: string, arch?: string, machine?: string, virttype?: string, flags = 0): Promise<string> {
    const fn = 'virConnectGetDomainCapabilities';
    for (const [name, v] of [['emulatorbin', emulator], ['arch', arch], ['machine', machine], ['virttype', virttype]] as const) {
      if (v !== undefined) checkStringArg(v, name, fn, { maxLength: MAX_URI_LENGTH });
    }
    checkFlagsArg(flags, fn);
    const d = this.driver;
    return need(d.getDomainCapabilities, fn).call(d, emulator, arch, machine, virttype, flags);
  }
  /** virConnectListAllNetworks (ListNetworks flags). */
  async listAllNetworks(flags = 0): Promise<NetworkInfo[]> {
    const fn = 'virConnectListAllNetworks';
    checkFlagsArg(flags, fn);
    const d = this.driver;
    return need(d.listAllNetworks, fn).call(d, flags);
  }
  /** virConnectListAllStoragePools (ListStoragePools flags). */
  async listAllStoragePools(flags = 0): Promise<StoragePoolInfo[]> {
    const fn = 'virConnectListAllStoragePools';
    checkFlagsArg(flags, fn);
    const d = this.driver;
    return need(d.listAllStoragePools, fn).call(d, flags);
  }
  /** virStoragePoolListAllVolumes of the pool named (or with the UUID) `pool`. */
  async listAllVolumes(pool: string, flags = 0): Promise<StorageVolInfo[]> {
    const fn = 'virStoragePoolListAllVolumes';
    checkStringArg(pool, 'pool', fn, { nonEmpty: true, maxLength: MAX_URI_LENGTH });
    checkFlagsArg(flags, fn);
    const d = this.driver;
    return need(d.listAllVolumes, fn).call(d, pool, flags);
  }
}
