/** One domain of the test driver: its persistent XML and, while it runs, its live state. */
import type { DomainRef } from '../../shared/events.js';
import { DomainDef } from '../../conf/index.js';
import { el, parseXml, serializeXml } from '../../xml/index.js';

/** A live unplug the guest has not acknowledged yet. */
export interface PendingUnplug {
  alias: string;
  /** Epoch ms when the guest answers; Infinity when it never will. */
  deadline: number;
  /** What the guest answers: remove the device, or refuse the unplug. */
  outcome: 'remove' | 'reject';
}

export interface LiveState {
  id: number;
  state: number;
  reason: number;
  /** The running definition, with live names (aliases, taps, `id`). */
  def: DomainDef;
  /** Next Xen NIC devid in this run. */
  nicSeq: number;
  /** Epoch ms at start, for cpuTime. */
  startedAt: number;
  pending: PendingUnplug[];
}

export interface DomainObj {
  name: string;
  uuid: string;
  /** Canonical inactive XML (UTF-8); undefined for a transient domain. See storeXml. */
  config?: Buffer;
  live?: LiveState;
  /** Why it last stopped (virDomainShutoffReason); not persisted. */
  shutoffReason?: number;
}

export function refOf(obj: DomainObj): DomainRef {
  return { name: obj.name, uuid: obj.uuid, id: obj.live ? obj.live.id : -1 };
}

/**
 * Persistent XML is held as UTF-8 bytes outside the JS heap: ten thousand defined domains
 * then leave almost nothing in V8's young generation, which otherwise grows to its maximum
 * while the definitions are created and keeps that memory (measured: 108 → see README).
 */
export function storeXml(text: string): Buffer {
  return Buffer.from(text, 'utf8');
}

/** The stored persistent XML as text. */
export function configXml(obj: DomainObj): string | undefined {
  return obj.config?.toString('utf8');
}

/** Parses stored canonical XML back into a definition (already validated when it was stored). */
export function configDef(obj: DomainObj): DomainDef | undefined {
  const xml = configXml(obj);
  return xml === undefined ? undefined : new DomainDef(parseXml(xml, { source: `definition of '${obj.name}'` }));
}

/** Live state as the status file holds it (like libvirt's /run/libvirt/qemu/NAME.xml `<domstatus>`). */
export function formatStatus(live: LiveState): string {
  const root = el('domstatus', {
    state: live.state,
    reason: live.reason,
    id: live.id,
    'nic-seq': live.nicSeq,
    started: live.startedAt,
  });
  for (const p of live.pending) {
    root.append(el('unplug', { alias: p.alias, deadline: Number.isFinite(p.deadline) ? p.deadline : 'never', outcome: p.outcome }));
  }
  root.append(live.def.root);
  const text = serializeXml(root);
  root.remove(live.def.root);
  return text;
}

export function parseStatus(text: string): LiveState {
  const root = parseXml(text, { source: 'domain status' });
  const domain = root.child('domain');
  if (!domain) throw new Error('status file without <domain>');
  return {
    state: Number(root.attr('state')),
    reason: Number(root.attr('reason')),
    id: Number(root.attr('id')),
    nicSeq: Number(root.attr('nic-seq') ?? 0),
    startedAt: Number(root.attr('started') ?? Date.now()),
    def: new DomainDef(domain),
    pending: root.elements('unplug').map((u) => ({
      alias: u.attr('alias') ?? '',
      deadline: u.attr('deadline') === 'never' ? Number.POSITIVE_INFINITY : Number(u.attr('deadline')),
      outcome: u.attr('outcome') === 'reject' ? 'reject' : 'remove',
    })),
  };
}
