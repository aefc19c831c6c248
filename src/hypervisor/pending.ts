/**
 * Devices whose unplug is outstanding, as the contract shows them: why each is still there, since
 * when, and the mark virtkit puts in the live XML (in its own metadata namespace, which libvirt
 * clients ignore, and never in the persistent definition).
 */
import type { DomainDef } from '../conf/index.js';
import { DomainState } from '../shared/flags.js';
import { HOTPLUG_NAMESPACE, type PendingDevice, type PendingReason, type PendingState } from '../shared/hotplug-contract.js';
import { el, type XmlElement } from '../xml/index.js';
import type { LiveState, PendingUnplug } from './domain-obj.js';

/** First resend of a request a busy guest refused, then doubling up to the maximum. */
export const BUSY_RETRY_MS = 500;
export const MAX_BUSY_RETRY_MS = 8000;

export function busyRetryDelay(tries: number): number {
  return Math.min(MAX_BUSY_RETRY_MS, BUSY_RETRY_MS * 2 ** Math.min(8, Math.max(0, tries - 1)));
}

export function reasonOf(live: LiveState, p: PendingUnplug): PendingReason {
  if (live.state === DomainState.PAUSED) return 'paused';
  return p.retryAt !== undefined ? 'guest-busy' : 'guest-not-acknowledging';
}

export function stateOf(p: PendingUnplug): PendingState {
  return p.isolated ? 'pending-until-shutdown' : 'pending';
}

export function pendingDevices(live: LiveState | undefined, now: number): PendingDevice[] {
  if (!live) return [];
  return live.pending.map((p) => ({
    alias: p.alias,
    reason: reasonOf(live, p),
    state: stateOf(p),
    since: p.requestedAt,
    ageMs: Math.max(0, now - p.requestedAt),
    ...(p.requestId === undefined ? {} : { requestId: p.requestId }),
  }));
}

/** The earliest resend of a held request, if any. */
export function nextRetry(live: LiveState | undefined): number | undefined {
  let at: number | undefined;
  for (const p of live?.pending ?? []) if (p.retryAt !== undefined && (at === undefined || p.retryAt < at)) at = p.retryAt;
  return at;
}

export function retryDue(live: LiveState | undefined, now: number): boolean {
  const at = nextRetry(live);
  return at !== undefined && at <= now;
}

function isOurs(e: XmlElement): boolean {
  const i = e.name.indexOf(':');
  const ns = i < 0 ? e.attr('xmlns') : e.attr(`xmlns:${e.name.slice(0, i)}`);
  return ns === HOTPLUG_NAMESPACE;
}

/**
 * The live definition with the pending mark in its metadata (a copy; `live.def` is untouched):
 * `<vkh:hotplug xmlns:vkh='urn:virtkit:hotplug'><vkh:pending alias=… reason=… state=… since=… request=…/>`.
 */
export function withPendingMark(live: LiveState): DomainDef {
  if (live.pending.length === 0) return live.def;
  const def = live.def.clone();
  const mark = el('vkh:hotplug', { 'xmlns:vkh': HOTPLUG_NAMESPACE });
  for (const p of live.pending) {
    mark.append(
      el('vkh:pending', {
        alias: p.alias,
        reason: reasonOf(live, p),
        state: stateOf(p),
        since: new Date(p.requestedAt).toISOString(),
        request: p.requestId,
      }),
    );
  }
  let metadata = def.root.child('metadata');
  if (!metadata) {
    metadata = el('metadata');
    // libvirt's place for <metadata>: after name, uuid, genid, title and description.
    const before = ['name', 'uuid', 'genid', 'title', 'description'];
    let at = 0;
    def.root.children.forEach((c, i) => {
      if (c.kind === 'element' && before.includes(c.name)) at = i + 1;
    });
    def.root.children.splice(at, 0, metadata);
  }
  metadata.append(mark);
  return def;
}

/**
 * Removes virtkit's live marks from a definition about to be stored (a dumped live XML defined
 * again must not carry them into the persistent definition). An emptied `<metadata>` goes too.
 * Returns whether the definition changed.
 */
export function stripPendingMark(def: DomainDef): boolean {
  const metadata = def.root.child('metadata');
  if (!metadata) return false;
  const ours = metadata.elements().filter(isOurs);
  if (ours.length === 0) return false;
  for (const e of ours) metadata.remove(e);
  if (metadata.elements().length === 0 && metadata.children.every((c) => c.kind !== 'element' && (c.kind !== 'text' || c.text.trim() === ''))) {
    def.root.remove(metadata);
  }
  return true;
}
