/**
 * The live half of a detach, for libvirt's calls and for virtkit's contract (issue 11), with the
 * domain's lock held throughout:
 *
 * - request: the backend asks the hypervisor (QEMU: device_del). A device whose unplug is already
 *   pending is asked again only by libvirt's calls (their behaviour) or with `resend`.
 * - after a failed request the device's presence is read again (a device that did go away is never
 *   reported as still there);
 * - a busy guest's refusal: libvirt's calls get the hypervisor's error; the contract holds the
 *   request and resends it (pending, reason `guest-busy`) or fails with the retryable RESOURCE_BUSY;
 * - wait: up to the call's wait for the guest's answer (the backend's news wakes it);
 * - the config half is committed once the live half did not fail;
 * - still pending and `isolate` asked: the device is cut off from the host.
 */
import { randomUUID } from 'node:crypto';
import { readAlias } from '../conf/index.js';
import { ErrorCode, VirtError, virtError } from '../errors.js';
import type { DetachOptions, DetachOutcome } from '../shared/hotplug-contract.js';
import type { XmlElement } from '../xml/index.js';
import { el } from '../xml/index.js';
import type { UnplugSent } from './backend.js';
import { deviceEvent, type DomainObj, liveDomain, type LiveState, type PendingUnplug } from './domain-obj.js';
import type { EngineCore } from './engine-core.js';
import { busyRetryDelay, nextRetry, reasonOf, stateOf } from './pending.js';
import { type DetachPlan, replacePending, withoutDevice, withPending } from './plan-hotplug.js';
import { requireActive } from './plan-lifecycle.js';

export interface DetachCall {
  /** The contract's options; undefined for libvirt's calls. */
  contract: DetachOptions | undefined;
  /** How long to wait for the guest's answer (ms). */
  waitMs: number;
  /** libvirt's alias detach changes the config at once; every other detach once the live half did not fail. */
  configAtOnce: boolean;
}

function hasDevice(live: LiveState, alias: string): boolean {
  return live.def.deviceElements().some((d) => readAlias(d) === alias);
}

function removed(alias: string | undefined, requestId?: string, extra: Partial<DetachOutcome> = {}): DetachOutcome {
  return { status: 'removed', outcome: 'removed', ...(alias === undefined ? {} : { alias }), ...(requestId === undefined ? {} : { requestId }), ...extra };
}

function pendingOutcome(live: LiveState, p: PendingUnplug): DetachOutcome {
  return {
    status: 'pending',
    outcome: 'pending',
    alias: p.alias,
    reason: reasonOf(live, p),
    since: p.requestedAt,
    state: stateOf(p),
    ...(p.requestId === undefined ? {} : { requestId: p.requestId }),
  };
}

/** The contract's error for a busy guest when the caller asked not to hold the request: retryable. */
export function guestBusyError(alias: string, cause: Error | undefined): VirtError {
  const err = new VirtError(
    ErrorCode.RESOURCE_BUSY,
    `resource busy: the guest is still busy with an earlier hot-plug and refused the unplug of device '${alias}'; retry in a moment` +
      (cause ? ` (${cause.message})` : ''),
    { cause },
  );
  return Object.assign(err, { retryable: true });
}

/** Runs the detach `p` planned for `start` (domain lock held). */
export async function runDetach(core: EngineCore, start: DomainObj, p: DetachPlan, call: DetachCall): Promise<DetachOutcome> {
  const { contract } = call;
  if (p.absent) return removed(undefined, undefined, { absent: true });
  if (!p.live) {
    // Config only: no device event (the running guest did not change).
    core.commit(start.name, { ...start, config: p.config ?? start.config }, []);
    return removed(undefined);
  }
  const { alias, device } = p.live;
  const live0 = start.live!;
  const existing = live0.pending.find((x) => x.alias === alias);
  const requestId = existing?.requestId ?? randomUUID();
  let config = p.config;
  let obj = start;

  // The contract never sends a second request on its own: it joins the one pending.
  const join = existing !== undefined && contract !== undefined && !contract.resend;
  if (!join) {
    const now = Date.now();
    // The usual outcome, the request out and pending, is written ahead while the hypervisor is asked.
    const configNow = call.configAtOnce ? (config ?? start.config) : start.config;
    core.store.stage?.(start.name, { ...start, live: withPending(live0, alias, now, requestId), config: configNow });
    let sent: UnplugSent;
    try {
      sent = await core.backend.requestUnplug(liveDomain(start), { alias, device, alreadyPending: existing !== undefined && existing.retryAt === undefined });
    } catch (err) {
      // Read the device's presence again: a device that did go away is never reported as still there.
      const after = await core.reconcile(start, { force: true, requests: new Map([[alias, requestId]]) });
      if (contract && after.obj && (!after.obj.live || !hasDevice(after.obj.live, alias))) {
        if (config && after.obj.config !== undefined) core.commit(start.name, { ...after.obj, config }, []);
        return removed(alias, requestId);
      }
      throw err;
    }
    const runtime = sent.runtime ?? live0.runtime;
    if (sent.status === 'removed') {
      await core.backend.finishRemoval(liveDomain(start), device);
      const live = { ...withoutDevice(live0, alias).live, runtime };
      const next = { ...start, config: config ?? start.config, live };
      core.commit(start.name, next, [deviceEvent('device-removed', next, alias, requestId)]);
      return removed(alias, requestId);
    }
    let live: LiveState;
    if (sent.status === 'busy') {
      if (!contract || contract.ifBusy === 'fail') {
        // Nothing is outstanding, but what the backend learned (e.g. a refusal used up) is kept.
        if (sent.runtime) core.commit(start.name, { ...start, live: { ...live0, runtime } }, []);
      }
      if (!contract) {
        throw sent.error ?? virtError(ErrorCode.INTERNAL_ERROR, `unable to execute QEMU command 'device_del': Hot-unplug failed: guest is busy`);
      }
      if (contract.ifBusy === 'fail') throw guestBusyError(alias, sent.error);
      const tries = (existing?.tries ?? 0) + 1;
      const held: PendingUnplug = { ...(existing ?? { alias, requestedAt: now }), requestId, retryAt: now + busyRetryDelay(tries), tries };
      live = replacePending({ ...live0, runtime }, held);
    } else {
      live = withPending({ ...live0, runtime }, alias, now, requestId);
    }
    obj = { ...start, live, config: configNow };
    if (call.configAtOnce) config = undefined;
    await core.store.staged?.(obj.name);
    core.commit(obj.name, obj, []);
    core.scheduleRetry(obj, live);
    // Likewise the device gone, written while the guest works on the unplug.
    if (sent.status === 'sent' && (call.waitMs > 0 || contract)) core.store.stage?.(obj.name, { ...obj, live: withoutDevice(live, alias).live });
  }

  let gone = false;
  if (call.waitMs > 0 || contract) {
    const deadline = Date.now() + call.waitMs;
    for (;;) {
      const news = await core.reconcile(obj);
      if (!news.obj) return removed(alias, requestId);
      obj = news.obj;
      if (!obj.live || !hasDevice(obj.live, alias)) {
        gone = true;
        break;
      }
      const answer = news.answers.find((a) => a.alias === alias);
      if (answer?.outcome === 'rejected' || !obj.live.pending.some((x) => x.alias === alias)) {
        throw virtError(ErrorCode.OPERATION_FAILED, 'unplug of device was rejected by the guest');
      }
      const left = deadline - Date.now();
      if (left <= 0 || core.closed || core.stopping.has(obj.uuid)) break;
      const retry = nextRetry(obj.live);
      const forRetry = retry !== undefined && retry - Date.now() < left;
      const woken = await core.signals.wait(obj.uuid, forRetry ? Math.max(1, retry! - Date.now()) : left);
      // Timed out: what the guest answers from now on is for the device-removed event, not this call.
      if (!woken && !forRetry) break;
    }
  }
  if (config) {
    obj = { ...obj, config };
    core.commit(obj.name, obj, []);
  }
  if (gone || !obj.live) return removed(alias, requestId);
  if (contract?.isolate) obj = await isolatePending(core, obj, alias);
  const entry = obj.live!.pending.find((x) => x.alias === alias)!;
  return pendingOutcome(obj.live!, entry);
}

/** `<link state='down'/>` in a live interface, where libvirt prints it. */
function linkDown(iface: XmlElement): void {
  const link = iface.child('link');
  if (link) {
    link.setAttr('state', 'down');
    return;
  }
  const after = ['mtu', 'coalesce', 'rom', 'alias', 'address', 'acpi'];
  const i = iface.children.findIndex((c) => c.kind === 'element' && after.includes(c.name));
  iface.insert(el('link', { state: 'down' }), i < 0 ? undefined : i);
}

/**
 * Cuts a device whose unplug is pending off from the host (backend.isolate) and marks it
 * pending-until-shutdown; an interface shows `<link state='down'/>` in the live XML.
 */
export async function isolatePending(core: EngineCore, obj: DomainObj, alias: string): Promise<DomainObj> {
  const live = requireActive(obj);
  const entry = live.pending.find((x) => x.alias === alias);
  if (!entry) {
    if (!hasDevice(live, alias)) throw virtError(ErrorCode.DEVICE_MISSING, `no device found with alias ${alias}`);
    throw virtError(ErrorCode.OPERATION_INVALID, `device '${alias}' has no pending unplug: detach it first, then isolate it if the guest does not let go`);
  }
  if (entry.isolated) return obj;
  const device = live.def.deviceElements().find((d) => readAlias(d) === alias)!;
  if (device.name !== 'interface' && device.name !== 'disk') {
    throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `isolating a <${device.name}> device is not supported: only interfaces and disks can be cut off from the host`);
  }
  const isolate = core.backend.isolate?.bind(core.backend);
  if (!isolate) throw virtError(ErrorCode.NO_SUPPORT, `isolating a device is not supported by the ${core.backend.type} driver`);
  const runtime = await isolate(liveDomain(obj), device);
  let def = live.def;
  if (device.name === 'interface') {
    def = def.clone();
    linkDown(def.deviceElements().find((d) => readAlias(d) === alias)!);
  }
  const next: DomainObj = { ...obj, live: replacePending({ ...live, def, runtime: runtime ?? live.runtime }, { ...entry, isolated: true }) };
  core.commit(obj.name, next, []);
  return next;
}
