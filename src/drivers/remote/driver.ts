/**
 * The remote driver: virtkit's Driver interface over libvirt's RPC, against libvirtd or virtkitd.
 * Each method is one procedure call (hot-plug adds the live-XML reads that recover what libvirt's
 * void replies leave out, see outcomes.ts); events arrive as messages for the callbacks registered
 * while this connection has listeners.
 */
import { ErrorCode, ErrorDomain, VirtError } from '../../errors.js';
import type { ProcedureInfo } from '../../rpc/codec.js';
import { REMOTE_STRING_MAX, remoteProcedures as P } from '../../rpc/generated/remote-protocol.js';
import { fromWireDomain, toWireDomain, uuidBytes } from '../../rpc/wire.js';
import type { XdrReader } from '../../rpc/xdr.js';
import { EventHub, type ListenerErrorHandler } from '../../shared/event-hub.js';
import type { DomainEvent, DomainRef } from '../../shared/events.js';
import { DeviceModify, EventId } from '../../shared/flags.js';
import type { AttachResult, DetachResult, DomainInfo, DomainStateInfo, Driver, EventListener, Unsubscribe } from '../driver.js';
import { attachedAlias, detachOutcome, liveView, matchedAlias, touchesLive } from './outcomes.js';
import type { RpcClient } from './rpc-client.js';

/** Event ids the driver subscribes to, with the callback-style messages that carry them. */
const EVENTS = [EventId.LIFECYCLE, EventId.DEVICE_ADDED, EventId.DEVICE_REMOVED, EventId.DEVICE_REMOVAL_FAILED];

export interface RemoteDriverOptions {
  uri: string;
  type: string;
  /** The server supports callback-style event registration (REMOTE_EVENT_CALLBACK feature). */
  callbackEvents: boolean;
  onListenerError?: ListenerErrorHandler;
  /** Stops the transport after the connection closed. */
  shutdown: () => void;
}

/** XML the protocol cannot carry is refused before sending, as the embedded drivers refuse oversized XML. */
function sized(xml: string, what: string): string {
  if (xml.length > REMOTE_STRING_MAX / 4) {
    const bytes = Buffer.byteLength(xml, 'utf8');
    if (bytes > REMOTE_STRING_MAX) {
      throw new VirtError(ErrorCode.XML_ERROR, `${what} is too large: ${bytes} bytes, libvirt's remote protocol carries at most ${REMOTE_STRING_MAX}`, { domain: ErrorDomain.XML });
    }
  }
  return xml;
}

export class RemoteDriver implements Driver {
  readonly uri: string;
  readonly type: string;
  readonly #rpc: RpcClient;
  readonly #opts: RemoteDriverOptions;
  readonly #hub: EventHub;
  /** Callback ids registered on the server for this connection's listeners. */
  #callbacks: number[] = [];
  #subscribing: Promise<void> | undefined;
  #closed = false;

  constructor(rpc: RpcClient, opts: RemoteDriverOptions) {
    this.#rpc = rpc;
    this.#opts = opts;
    this.uri = opts.uri;
    this.type = opts.type;
    this.#hub = new EventHub(opts.onListenerError);
    rpc.onEvent((proc, payload) => this.#event(proc, payload));
  }

  #call<A, R>(proc: ProcedureInfo<A, R>, args: A): Promise<R> {
    if (this.#closed) return Promise.reject(new VirtError(ErrorCode.INVALID_CONN, 'connection is closed'));
    return this.#rpc.call(proc, args);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#hub.clear();
    try {
      if (!this.#rpc.closed) await this.#rpc.call(P.CONNECT_CLOSE, undefined);
    } catch {
      // The connection is going away either way.
    } finally {
      this.#closed = true;
      this.#rpc.end();
      this.#opts.shutdown();
    }
  }

  async getHostname(): Promise<string> {
    return (await this.#call(P.CONNECT_GET_HOSTNAME, undefined)).hostname;
  }
  async getVersion(): Promise<number> {
    return Number((await this.#call(P.CONNECT_GET_VERSION, undefined)).hv_ver);
  }

  async listAllDomains(flags: number): Promise<DomainRef[]> {
    return (await this.#call(P.CONNECT_LIST_ALL_DOMAINS, { need_results: 1, flags })).domains.map(fromWireDomain);
  }
  async lookupByName(name: string): Promise<DomainRef> {
    return fromWireDomain((await this.#call(P.DOMAIN_LOOKUP_BY_NAME, { name })).dom);
  }
  async lookupByUUID(uuid: string): Promise<DomainRef> {
    return fromWireDomain((await this.#call(P.DOMAIN_LOOKUP_BY_UUID, { uuid: uuidBytes(uuid) })).dom);
  }
  async lookupByID(id: number): Promise<DomainRef> {
    return fromWireDomain((await this.#call(P.DOMAIN_LOOKUP_BY_ID, { id })).dom);
  }
  refresh(dom: DomainRef): Promise<DomainRef> {
    return this.lookupByUUID(dom.uuid);
  }

  async defineXML(xml: string, flags: number): Promise<DomainRef> {
    sized(xml, 'domain definition');
    const r = flags ? await this.#call(P.DOMAIN_DEFINE_XML_FLAGS, { xml, flags }) : await this.#call(P.DOMAIN_DEFINE_XML, { xml });
    return fromWireDomain(r.dom);
  }
  async createXML(xml: string, flags: number): Promise<DomainRef> {
    return fromWireDomain((await this.#call(P.DOMAIN_CREATE_XML, { xml_desc: sized(xml, 'domain definition'), flags })).dom);
  }
  async undefine(dom: DomainRef, flags: number): Promise<void> {
    if (flags) await this.#call(P.DOMAIN_UNDEFINE_FLAGS, { dom: toWireDomain(dom), flags });
    else await this.#call(P.DOMAIN_UNDEFINE, { dom: toWireDomain(dom) });
  }
  async create(dom: DomainRef, flags: number): Promise<DomainRef> {
    return fromWireDomain((await this.#call(P.DOMAIN_CREATE_WITH_FLAGS, { dom: toWireDomain(dom), flags })).dom);
  }
  async destroy(dom: DomainRef, flags: number): Promise<void> {
    if (flags) await this.#call(P.DOMAIN_DESTROY_FLAGS, { dom: toWireDomain(dom), flags });
    else await this.#call(P.DOMAIN_DESTROY, { dom: toWireDomain(dom) });
  }
  async shutdown(dom: DomainRef, flags: number): Promise<void> {
    if (flags) await this.#call(P.DOMAIN_SHUTDOWN_FLAGS, { dom: toWireDomain(dom), flags });
    else await this.#call(P.DOMAIN_SHUTDOWN, { dom: toWireDomain(dom) });
  }
  async suspend(dom: DomainRef): Promise<void> {
    await this.#call(P.DOMAIN_SUSPEND, { dom: toWireDomain(dom) });
  }
  async resume(dom: DomainRef): Promise<void> {
    await this.#call(P.DOMAIN_RESUME, { dom: toWireDomain(dom) });
  }

  async getXMLDesc(dom: DomainRef, flags: number): Promise<string> {
    return (await this.#call(P.DOMAIN_GET_XML_DESC, { dom: toWireDomain(dom), flags })).xml;
  }
  async getInfo(dom: DomainRef): Promise<DomainInfo> {
    const i = await this.#call(P.DOMAIN_GET_INFO, { dom: toWireDomain(dom) });
    return { state: i.state, maxMem: Number(i.maxMem), memory: Number(i.memory), nrVirtCpu: i.nrVirtCpu, cpuTime: Number(i.cpuTime) };
  }
  getState(dom: DomainRef): Promise<DomainStateInfo> {
    return this.#call(P.DOMAIN_GET_STATE, { dom: toWireDomain(dom), flags: 0 });
  }
  async isActive(dom: DomainRef): Promise<boolean> {
    return (await this.#call(P.DOMAIN_IS_ACTIVE, { dom: toWireDomain(dom) })).active !== 0;
  }
  async isPersistent(dom: DomainRef): Promise<boolean> {
    return (await this.#call(P.DOMAIN_IS_PERSISTENT, { dom: toWireDomain(dom) })).persistent !== 0;
  }
  async getOSType(dom: DomainRef): Promise<string> {
    return (await this.#call(P.DOMAIN_GET_OS_TYPE, { dom: toWireDomain(dom) })).type;
  }
  async getAutostart(dom: DomainRef): Promise<boolean> {
    return (await this.#call(P.DOMAIN_GET_AUTOSTART, { dom: toWireDomain(dom) })).autostart !== 0;
  }
  async hasManagedSaveImage(dom: DomainRef, flags: number): Promise<boolean> {
    return (await this.#call(P.DOMAIN_HAS_MANAGED_SAVE_IMAGE, { dom: toWireDomain(dom), flags })).result !== 0;
  }

  /** The live XML, read for outcomes only: a failure here never fails the hot-plug call itself. */
  async #live(dom: DomainRef): Promise<ReturnType<typeof liveView> | undefined> {
    try {
      return liveView(await this.getXMLDesc(dom, 0));
    } catch {
      return undefined;
    }
  }

  /** Config-only calls never touch the live XML, so nothing needs reading around them. */
  async #liveUnlessConfigOnly(dom: DomainRef, flags: number): Promise<ReturnType<typeof liveView> | undefined> {
    return flags & DeviceModify.CONFIG && !(flags & DeviceModify.LIVE) ? undefined : this.#live(dom);
  }

  async attachDevice(dom: DomainRef, xml: string, flags: number): Promise<AttachResult> {
    sized(xml, 'device definition');
    const before = await this.#liveUnlessConfigOnly(dom, flags);
    await this.#call(P.DOMAIN_ATTACH_DEVICE_FLAGS, { dom: toWireDomain(dom), xml, flags });
    if (!before || !touchesLive(flags, before.active)) return {};
    const after = await this.#live(dom);
    const alias = after ? attachedAlias(before, after, xml) : undefined;
    return alias === undefined ? {} : { alias };
  }

  async detachDevice(dom: DomainRef, xml: string, flags: number): Promise<DetachResult> {
    sized(xml, 'device definition');
    const before = await this.#liveUnlessConfigOnly(dom, flags);
    await this.#call(P.DOMAIN_DETACH_DEVICE_FLAGS, { dom: toWireDomain(dom), xml, flags });
    if (!before || !touchesLive(flags, before.active)) return { outcome: 'removed' };
    const after = await this.#live(dom);
    if (!after) return { outcome: 'removed' };
    return detachOutcome(before, after, matchedAlias(before, xml));
  }

  async updateDevice(dom: DomainRef, xml: string, flags: number): Promise<void> {
    await this.#call(P.DOMAIN_UPDATE_DEVICE_FLAGS, { dom: toWireDomain(dom), xml: sized(xml, 'device definition'), flags });
  }

  async detachDeviceAlias(dom: DomainRef, alias: string, flags: number): Promise<DetachResult> {
    await this.#call(P.DOMAIN_DETACH_DEVICE_ALIAS, { dom: toWireDomain(dom), alias, flags });
    const after = await this.#live(dom);
    if (!after || !touchesLive(flags, after.active)) return { outcome: 'removed', alias };
    return { outcome: after.aliases.has(alias) ? 'pending' : 'removed', alias };
  }

  async subscribe(listener: EventListener): Promise<Unsubscribe> {
    this.#hub.add(listener);
    try {
      await this.#ensureRegistered();
    } catch (err) {
      this.#hub.delete(listener);
      throw err;
    }
    let done = false;
    return async () => {
      if (done) return;
      done = true;
      this.#hub.delete(listener);
      if (this.#hub.size === 0) await this.#deregister();
    };
  }

  async #ensureRegistered(): Promise<void> {
    while (this.#subscribing) await this.#subscribing;
    if (this.#callbacks.length > 0) return;
    this.#subscribing = (async () => {
      const ids: number[] = [];
      try {
        for (const eventID of EVENTS) {
          if (this.#opts.callbackEvents) ids.push((await this.#call(P.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID, dom: null })).callbackID);
          else {
            await this.#call(P.CONNECT_DOMAIN_EVENT_REGISTER_ANY, { eventID });
            ids.push(eventID);
          }
        }
      } catch (err) {
        this.#callbacks = ids;
        await this.#deregister().catch(() => undefined);
        throw err;
      }
      this.#callbacks = ids;
    })();
    try {
      await this.#subscribing;
    } finally {
      this.#subscribing = undefined;
    }
  }

  async #deregister(): Promise<void> {
    const ids = this.#callbacks;
    this.#callbacks = [];
    if (this.#closed || this.#rpc.closed) return;
    for (const id of ids) {
      if (this.#opts.callbackEvents) await this.#call(P.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, { callbackID: id });
      else await this.#call(P.CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, { eventID: id });
    }
  }

  #event(proc: number, payload: XdrReader): void {
    const mine = (callbackID: number): boolean => this.#callbacks.includes(callbackID);
    let e: DomainEvent | undefined;
    switch (proc) {
      case P.DOMAIN_EVENT_CALLBACK_LIFECYCLE.proc: {
        const m = P.DOMAIN_EVENT_CALLBACK_LIFECYCLE.args.decode(payload);
        if (mine(m.callbackID)) e = { type: 'lifecycle', domain: fromWireDomain(m.msg.dom), event: m.msg.event, detail: m.msg.detail };
        break;
      }
      case P.DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED.proc: {
        const m = P.DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED.args.decode(payload);
        if (mine(m.callbackID)) e = { type: 'device-removed', domain: fromWireDomain(m.msg.dom), alias: m.msg.devAlias };
        break;
      }
      case P.DOMAIN_EVENT_CALLBACK_DEVICE_ADDED.proc: {
        const m = P.DOMAIN_EVENT_CALLBACK_DEVICE_ADDED.args.decode(payload);
        if (mine(m.callbackID)) e = { type: 'device-added', domain: fromWireDomain(m.dom), alias: m.devAlias };
        break;
      }
      case P.DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED.proc: {
        const m = P.DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED.args.decode(payload);
        if (mine(m.callbackID)) e = { type: 'device-removal-failed', domain: fromWireDomain(m.dom), alias: m.devAlias };
        break;
      }
      case P.DOMAIN_EVENT_LIFECYCLE.proc: {
        const m = P.DOMAIN_EVENT_LIFECYCLE.args.decode(payload);
        if (!this.#opts.callbackEvents) e = { type: 'lifecycle', domain: fromWireDomain(m.dom), event: m.event, detail: m.detail };
        break;
      }
      case P.DOMAIN_EVENT_DEVICE_REMOVED.proc: {
        const m = P.DOMAIN_EVENT_DEVICE_REMOVED.args.decode(payload);
        if (!this.#opts.callbackEvents) e = { type: 'device-removed', domain: fromWireDomain(m.dom), alias: m.devAlias };
        break;
      }
    }
    if (e) this.#hub.dispatch([e]);
  }
}
