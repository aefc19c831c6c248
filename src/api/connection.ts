/** The public entry point: `await Connection.open('test:///default')`. */
import { ErrorCode, VirtError } from '../errors.js';
import type { Driver } from '../drivers/driver.js';
import { openDriver, type OpenOptions } from '../drivers/registry.js';
import { Domain } from './domain.js';
import type { DomainEventType, EventOf } from '../shared/events.js';
import { eventStream, type EventStream, type EventStreamOptions } from './event-stream.js';

/** Default URI when none is given: the embedded test driver. */
export const DEFAULT_URI = 'test:///default';

export class Connection {
  readonly #driver: Driver;
  #closed = false;

  private constructor(driver: Driver) {
    this.#driver = driver;
  }

  /** virConnectOpen. `test:///default` (in-process) and `test:///default?state=DIR` (shared on disk). */
  static async open(uri: string = DEFAULT_URI, options: OpenOptions = {}): Promise<Connection> {
    return new Connection(await openDriver(uri, options));
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
    const refs = await this.driver.listAllDomains(flags);
    return refs.map((r) => new Domain(this.#driver, r));
  }
  /** virDomainLookupByName */
  async lookupByName(name: string): Promise<Domain> {
    return new Domain(this.#driver, await this.driver.lookupByName(name));
  }
  /** virDomainLookupByUUIDString */
  async lookupByUUID(uuid: string): Promise<Domain> {
    return new Domain(this.#driver, await this.driver.lookupByUUID(uuid));
  }
  /** virDomainLookupByID */
  async lookupByID(id: number): Promise<Domain> {
    return new Domain(this.#driver, await this.driver.lookupByID(id));
  }
  /** Resolves a domain the way virsh does: by id (numeric), then UUID, then name. */
  async lookup(nameIdOrUuid: string): Promise<Domain> {
    if (/^\d+$/.test(nameIdOrUuid)) {
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
  defineXML(xml: string): Promise<Domain> {
    return this.defineXMLFlags(xml, 0);
  }
  /** virDomainDefineXMLFlags (DomainDefine.VALIDATE checks libvirt's RelaxNG schema). */
  async defineXMLFlags(xml: string, flags: number): Promise<Domain> {
    return new Domain(this.#driver, await this.driver.defineXML(xml, flags));
  }
  /** virDomainCreateXML: starts a transient domain. */
  async createXML(xml: string, flags = 0): Promise<Domain> {
    return new Domain(this.#driver, await this.driver.createXML(xml, flags));
  }

  /**
   * Adds a typed listener. Resolves once events are being delivered (a remote connection
   * subscribes with a round trip) to a function that removes it. A listener that throws or
   * rejects never affects the call that caused the event (see `OpenOptions.onListenerError`).
   */
  async on<T extends DomainEventType>(type: T, listener: (event: EventOf<T>) => unknown): Promise<() => Promise<void>> {
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
    return eventStream(this.driver, options, signal);
  }
}
