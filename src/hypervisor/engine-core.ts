/**
 * The engine's machinery under every call: per-domain locking, resolving a handle, applying
 * what the backend reports (unplug answers, exits), committing one domain's new value and
 * delivering its events, and the unplug wait.
 */
import type { QemuHost } from '../conf/index.js';
import { ErrorCode, virtError } from '../errors.js';
import { EventHub, type ListenerErrorHandler } from '../shared/event-hub.js';
import type { DomainEvent } from '../shared/events.js';
import { readAlias } from '../conf/index.js';
import { DomainState } from '../shared/flags.js';
import type { GuestAnswer, HypervisorBackend, Reconciled, UnplugSent } from './backend.js';
import { deviceEvent, type DomainObj, liveDomain, type LiveState } from './domain-obj.js';
import type { DomainStore } from './domains.js';
import { busyRetryDelay, nextRetry, retryDue } from './pending.js';
import { replacePending, withoutDevice, withoutPending } from './plan-hotplug.js';
import type { HostNameTaken } from './naming.js';
import { planStopped } from './plan-lifecycle.js';
import { DomainSignals } from './signals.js';
import { noDomainByName } from './table.js';

export interface EngineOptions {
  /** virConnectGetURI */
  uri: string;
  store: DomainStore;
  backend: HypervisorBackend;
  /** How long a live detach waits for the guest before returning `pending` (libvirt: 5000 ms). */
  unplugTimeoutMs: number;
  /** Where listener errors go (default: a process warning). */
  onListenerError?: ListenerErrorHandler;
  /** Capabilities qemu/kvm domains are normalized for at define and attach (conf's default: QEMU 7.2 on x86_64). */
  qemuHost?: QemuHost;
}

/** A handle, or just a name (for calls the engine makes on its own). */
export type DomainKey = { name: string; uuid?: string };

export class EngineCore {
  readonly store: DomainStore;
  readonly backend: HypervisorBackend;
  readonly hub: EventHub;
  readonly signals = new DomainSignals();
  /** Domains a destroy/shutdown of this process is about to stop: their waiting detaches give up. */
  readonly stopping = new Set<string>();
  readonly unplugTimeoutMs: number;
  readonly qemuHost: QemuHost | undefined;
  /** Host-side names (taps) the host already has, which allocation steps over; none for a simulated host. */
  readonly hostNameTaken: HostNameTaken | undefined;
  closed = false;
  readonly #retryTimers = new Map<string, NodeJS.Timeout>();

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.backend = options.backend;
    this.unplugTimeoutMs = options.unplugTimeoutMs;
    this.qemuHost = options.qemuHost;
    this.hostNameTaken = options.backend.hostNameTaken?.bind(options.backend);
    this.hub = new EventHub(options.onListenerError);
    this.backend.bind({ changed: (name, uuid) => this.#news(name, uuid) });
  }

  check(): void {
    if (this.closed) throw virtError(ErrorCode.INVALID_CONN, 'connection is closed');
  }

  /** The domain a handle names, as stored now (no lock). */
  resolve(key: DomainKey): DomainObj {
    const obj = this.store.get(key.name);
    if (key.uuid === undefined) {
      if (!obj) throw noDomainByName(key.name);
      return obj;
    }
    if (!obj || obj.uuid !== key.uuid) throw virtError(ErrorCode.NO_DOMAIN, `no domain with matching uuid '${key.uuid}' (${key.name})`);
    return obj;
  }

  /** True when a lock-free read must first let the backend reconcile this domain. */
  stale(obj: DomainObj): boolean {
    const now = Date.now();
    return obj.live !== undefined && (this.backend.needsReconcile(liveDomain(obj), now) || retryDue(obj.live, now));
  }

  /** The domain, reconciled when the backend has news for it. */
  async fresh(obj: DomainObj): Promise<DomainObj> {
    if (!this.stale(obj)) return obj;
    return this.locked(obj, async (o) => o);
  }

  /**
   * Runs fn on the domain with its lock held, after applying the backend's news. `warm`: fn will
   * reach the hypervisor of a running domain; the backend prepares (backend.warm) while the news is
   * applied and fn plans.
   */
  async locked<T>(key: DomainKey, fn: (obj: DomainObj) => Promise<T>, opts: { warm?: boolean } = {}): Promise<T> {
    this.check();
    return this.store.withDomain(key.name, async () => {
      this.check();
      const current = this.resolve(key);
      if (opts.warm && current.live) this.backend.warm?.(liveDomain(current));
      // A domain that is not running has nothing to reconcile: no call into reconcile for it.
      const obj = current.live ? (await this.reconcile(current)).obj : current;
      if (!obj) throw virtError(ErrorCode.NO_DOMAIN, `no domain with matching name '${key.name}'`);
      return fn(obj);
    });
  }

  /** Installs a domain's new value and delivers its events (domain lock held). */
  commit(name: string, next: DomainObj | undefined, events: DomainEvent[]): void {
    this.store.commit(name, next, events);
    this.hub.dispatch(events);
  }

  /**
   * Applies what the backend learned about a running domain: unplug answers (the device leaves
   * the live definition, device-removed; or device-removal-failed) and an exit; then sends again
   * the requests a busy guest refused whose time has come. Domain lock held. `force` asks the
   * backend even when it has no news (the presence re-read after an unplug error); `requests`
   * names the request of an alias that has no pending entry (an unplug that failed).
   */
  async reconcile(
    obj: DomainObj,
    opts: { force?: boolean; requests?: ReadonlyMap<string, string> } = {},
  ): Promise<{ obj: DomainObj | undefined; answers: GuestAnswer[] }> {
    if (!obj.live) return { obj, answers: [] };
    const now = Date.now();
    const asked = opts.force === true || this.backend.needsReconcile(liveDomain(obj), now);
    if (!asked && !retryDue(obj.live, now)) return { obj, answers: [] };
    const news: Reconciled = asked ? await this.backend.reconcile(liveDomain(obj), now) : { answers: [] };
    let live: LiveState = obj.live;
    const events: DomainEvent[] = [];
    const requestOf = (alias: string): string | undefined =>
      live.pending.find((p) => p.alias === alias)?.requestId ?? opts.requests?.get(alias);
    const removals: (() => Promise<void>)[] = [];
    for (const answer of news.answers) {
      const requestId = requestOf(answer.alias);
      if (answer.outcome === 'removed') {
        const { live: after, device } = withoutDevice(live, answer.alias);
        if (device) {
          const before = live;
          removals.push(() => this.#finishRemoval(obj, before, device));
          events.push(deviceEvent('device-removed', obj, answer.alias, requestId));
        }
        live = after;
      } else if (live.pending.some((p) => p.alias === answer.alias)) {
        live = withoutPending(live, answer.alias);
        events.push(deviceEvent('device-removal-failed', obj, answer.alias, requestId));
      }
    }
    if (news.runtime) live = { ...live, runtime: news.runtime };
    // The likely new value's record is formatted while the removed devices' backends are released
    // (QMP round trips: QEMU's time, not this thread's); the commit after them then only writes it.
    let likely: DomainObj | undefined;
    if (removals.length > 0 && !news.exited) {
      likely = { ...obj, live };
      this.store.prepare?.(obj.name, likely);
    }
    for (const remove of removals) await remove();
    if (!news.exited && live.state === DomainState.RUNNING) live = await this.#resendHeld(obj, live, events);
    let next: DomainObj | undefined = likely?.live === live ? likely : { ...obj, live };
    if (news.exited) {
      const stopped = planStopped(obj, news.exited.reason, news.exited.detail);
      next = stopped.next;
      events.push(...stopped.events);
    }
    if (live !== obj.live || news.exited) {
      // A removal a waiting detach wrote ahead (detach.ts) is finished, not written again.
      await this.store.staged?.(obj.name);
      this.commit(obj.name, next, events);
    }
    return { obj: next, answers: news.answers };
  }

  /**
   * Sends again each request a busy guest refused whose retry time has come: accepted, it becomes
   * an ordinary pending unplug; busy again, it waits longer; refused otherwise, the removal failed.
   */
  async #resendHeld(obj: DomainObj, live: LiveState, events: DomainEvent[]): Promise<LiveState> {
    const now = Date.now();
    for (const p of live.pending) {
      if (p.retryAt === undefined || p.retryAt > now) continue;
      const device = live.def.deviceElements().find((d) => readAlias(d) === p.alias);
      if (!device) {
        live = withoutPending(live, p.alias);
        continue;
      }
      let sent: UnplugSent;
      try {
        sent = await this.backend.requestUnplug(liveDomain(obj, live), { alias: p.alias, device, alreadyPending: false });
      } catch {
        live = withoutPending(live, p.alias);
        events.push(deviceEvent('device-removal-failed', obj, p.alias, p.requestId));
        continue;
      }
      if (sent.runtime) live = { ...live, runtime: sent.runtime };
      if (sent.status === 'busy') {
        const tries = (p.tries ?? 1) + 1;
        live = replacePending(live, { ...p, tries, retryAt: Date.now() + busyRetryDelay(tries) });
      } else if (sent.status === 'removed') {
        const { live: after } = withoutDevice(live, p.alias);
        await this.#finishRemoval(obj, live, device);
        events.push(deviceEvent('device-removed', obj, p.alias, p.requestId));
        live = after;
      } else {
        const { retryAt: _r, tries: _t, ...accepted } = p;
        live = replacePending(live, accepted);
      }
    }
    this.scheduleRetry(obj, live);
    return live;
  }

  /** Wakes this engine when a held request of the domain is due (its waiting detach, or a background reconcile). */
  scheduleRetry(obj: { name: string; uuid: string }, live: LiveState | undefined): void {
    const at = nextRetry(live);
    if (at === undefined || this.closed) return;
    const key = `${obj.uuid}@${at}`;
    if (this.#retryTimers.has(key)) return;
    // One millisecond late on purpose: Node's timers may fire just before Date.now() reaches `at`.
    const timer = setTimeout(() => {
      this.#retryTimers.delete(key);
      this.#news(obj.name, obj.uuid);
    }, Math.max(0, at - Date.now()) + 1);
    this.#retryTimers.set(key, timer);
  }

  async #finishRemoval(obj: DomainObj, live: LiveState, device: Parameters<HypervisorBackend['finishRemoval']>[1]): Promise<void> {
    try {
      await this.backend.finishRemoval(liveDomain(obj, live), device);
    } catch (err) {
      // The guest let go of the device: it leaves the live definition whatever its backend says.
      process.emitWarning(`releasing the backend of a removed device of '${obj.name}' failed: ${(err as Error).message}`, {
        type: 'VirtkitBackendWarning',
      });
    }
  }

  /** The backend has news for a domain: wake its waiting detach, or reconcile it in the background. */
  #news(name: string, uuid: string): void {
    if (this.closed || this.signals.signal(uuid)) return;
    // Fresh: news arrives in callbacks that inherit the context of the call that opened the monitor,
    // which may still hold the domain's lock; this must wait for it, not run beside it.
    this.store
      .withDomain(
        name,
        async () => {
          if (this.closed) return;
          const obj = this.store.get(name);
          if (obj?.uuid === uuid) await this.reconcile(obj);
        },
        { fresh: true },
      )
      .catch((err: unknown) => {
        if (this.closed) return;
        process.emitWarning(`applying hypervisor news for domain '${name}' failed: ${(err as Error).message}`, {
          type: 'VirtkitBackendWarning',
        });
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.#retryTimers.values()) clearTimeout(t);
    this.#retryTimers.clear();
    this.signals.wakeAll();
    this.store.unfollow?.();
    this.hub.clear();
    await this.backend.close();
  }
}
