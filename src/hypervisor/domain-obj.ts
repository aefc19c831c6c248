/**
 * One domain as every driver on the engine holds it: its persistent XML and, while it
 * runs, its live state. Values are never edited once installed: a change builds a new
 * object and the commit swaps it in, so a failed call leaves nothing behind.
 */
import { DomainDef } from '../conf/index.js';
import type { DeviceEventData, DomainRef } from '../shared/events.js';
import { el, parseStoredXml, serializeXml, type XmlElement } from '../xml/index.js';
import type { LiveDomain, Runtime } from './backend.js';

/** A live unplug the guest has not answered yet. */
export interface PendingUnplug {
  alias: string;
  /** Epoch ms of the first request for this device (the contract's `since`). */
  requestedAt: number;
  /** Id of the detach request; the device-removed / device-removal-failed event carries it. */
  requestId?: string;
  /**
   * The hypervisor refused the request because the guest was busy (a contract detach with ifBusy
   * 'hold'): no request is outstanding, the engine sends it again at this epoch ms.
   */
  retryAt?: number;
  /** Busy refusals so far (spaces the resends out). */
  tries?: number;
  /** Cut off from the host (isolateDevice): leaves at the guest's answer or when the domain stops. */
  isolated?: boolean;
}

export interface LiveState {
  readonly id: number;
  readonly state: number;
  readonly reason: number;
  /** The running definition, with live names (aliases, taps, `id`). */
  readonly def: DomainDef;
  /** Next Xen NIC devid in this run. */
  readonly nicSeq: number;
  /** Epoch ms at start, for cpuTime. */
  readonly startedAt: number;
  readonly pending: readonly PendingUnplug[];
  /** The backend's private data (see backend.ts). */
  readonly runtime: Runtime;
}

export interface DomainObj {
  readonly name: string;
  readonly uuid: string;
  /** Canonical inactive XML (UTF-8); undefined for a transient domain. See storeXml. */
  readonly config?: Buffer;
  readonly live?: LiveState;
  /** Why it last stopped (virDomainShutoffReason); not persisted. */
  readonly shutoffReason?: number;
}

export function refOf(obj: DomainObj): DomainRef {
  return { name: obj.name, uuid: obj.uuid, id: obj.live ? obj.live.id : -1 };
}

/** A device event, carrying the id of the detach request behind it when there is one. */
export function deviceEvent(type: DeviceEventData['type'], obj: DomainObj, alias: string, requestId?: string): DeviceEventData {
  return requestId === undefined ? { type, domain: refOf(obj), alias } : { type, domain: refOf(obj), alias, requestId };
}

/** The backend's view of a running domain. */
export function liveDomain(obj: DomainObj, live: LiveState = obj.live!): LiveDomain {
  return {
    name: obj.name,
    uuid: obj.uuid,
    id: live.id,
    def: live.def,
    state: live.state,
    // A held request (guest busy) is not outstanding at the hypervisor.
    pending: live.pending.filter((p) => p.retryAt === undefined).map((p) => p.alias),
    runtime: live.runtime,
  };
}

/**
 * Persistent XML is held as UTF-8 bytes outside the JS heap: ten thousand defined domains
 * then leave almost nothing in V8's young generation, which otherwise grows to its maximum
 * while the definitions are created and keeps that memory (measured: 108 → see README).
 */
export function storeXml(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/**
 * `s` as a string of its own. Text read from a parsed document is a slice of that document (V8 keeps
 * substrings of 13 characters or more as views of their parent): a domain kept under a name read from
 * its XML kept the whole define input alive, the stored bytes aside (100 KB per domain defined with
 * a 100 KB description). Shorter strings are copies already.
 */
export function ownedString(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8');
}

/** storeXml(def.toXml()), without making the text first. */
export function storeDef(def: DomainDef): Buffer {
  return def.toUtf8();
}

/** The stored persistent XML as text. */
export function configXml(obj: DomainObj): string | undefined {
  return obj.config?.toString('utf8');
}

/** Parses stored canonical XML back into a definition (already validated when it was stored). */
export function configDef(obj: DomainObj): DomainDef | undefined {
  const xml = configXml(obj);
  return xml === undefined ? undefined : new DomainDef(parseStoredXml(xml, `definition of '${obj.name}'`));
}

/** The domain's type attribute, from whichever definition it has. */
export function domainTypeOf(obj: DomainObj): string {
  if (obj.live) return obj.live.def.type;
  const xml = obj.config ? obj.config.subarray(0, 256).toString('latin1') : '';
  const m = /<domain[^>]*\stype='([^']*)'/.exec(xml);
  return m ? m[1]! : (configDef(obj)?.type ?? 'test');
}

/** Live state as the status record holds it (like libvirt's /run/libvirt/qemu/NAME.xml `<domstatus>`). */
export function formatStatus(live: LiveState): string {
  const root = el('domstatus', {
    state: live.state,
    reason: live.reason,
    id: live.id,
    'nic-seq': live.nicSeq,
    started: live.startedAt,
  });
  for (const p of live.pending) {
    root.append(
      el('unplug', {
        alias: p.alias,
        requested: p.requestedAt,
        request: p.requestId,
        retry: p.retryAt,
        tries: p.tries,
        isolated: p.isolated ? 'yes' : undefined,
      }),
    );
  }
  if (Object.keys(live.runtime).length > 0) root.append(el('runtime', {}, JSON.stringify(live.runtime)));
  root.append(live.def.root);
  const text = serializeXml(root);
  root.remove(live.def.root);
  return text;
}

export function parseStatus(text: string): LiveState {
  const root = parseStoredXml(text, 'domain status');
  const domain = root.child('domain');
  if (!domain) throw new Error('status without <domain>');
  const runtimeText = root.childText('runtime');
  return {
    state: Number(root.attr('state')),
    reason: Number(root.attr('reason')),
    id: Number(root.attr('id')),
    nicSeq: Number(root.attr('nic-seq') ?? 0),
    startedAt: Number(root.attr('started') ?? Date.now()),
    def: new DomainDef(domain),
    pending: root.elements('unplug').map(parsePending),
    runtime: runtimeText ? (JSON.parse(runtimeText) as Runtime) : {},
  };
}

function parsePending(u: XmlElement): PendingUnplug {
  const p: PendingUnplug = { alias: u.attr('alias') ?? '', requestedAt: Number(u.attr('requested') ?? 0) };
  const request = u.attr('request');
  const retry = u.attr('retry');
  const tries = u.attr('tries');
  return {
    ...p,
    ...(request === undefined ? {} : { requestId: request }),
    ...(retry === undefined ? {} : { retryAt: Number(retry) }),
    ...(tries === undefined ? {} : { tries: Number(tries) }),
    ...(u.attr('isolated') === 'yes' ? { isolated: true } : {}),
  };
}
