/** The test driver: real hot-plug semantics on in-process (or folder-shared) domains, no hypervisor. */
import { hostname } from 'node:os';
import type { QemuHost } from '../../conf/caps/types.js';
import { EventHub, type ListenerErrorHandler } from '../../shared/event-hub.js';
import type { DomainEvent, DomainRef } from '../../shared/events.js';
import { DomainState, DomainXML, ListDomains, StateReason } from '../../shared/flags.js';
import { checkFlags, parseDomainXml } from '../../conf/index.js';
import { ErrorCode, virtError } from '../../errors.js';
import type { AttachResult, DetachResult, DomainInfo, DomainStateInfo, Driver, EventListener, Unsubscribe } from '../driver.js';
import type { Backing, Tx } from './backing.js';
import { configDef, configXml, refOf, type DomainObj } from './domain-obj.js';
import * as hotplug from './hotplug.js';
import * as lifecycle from './lifecycle.js';
import { inactiveOf } from './live.js';

export interface TestDriverOptions {
  uri: string;
  /** How long a live detach waits for the guest before returning `pending` (libvirt: 5000 ms). */
  unplugTimeoutMs: number;
  /** Where listener errors go (default: a process warning). */
  onListenerError?: ListenerErrorHandler;
  /** Capabilities qemu/kvm domains are normalized for (conf's default: QEMU 7.2 on x86_64). */
  qemuHost?: QemuHost;
}

type UnplugAnswer = 'removed' | 'rejected' | 'gone';

/** Strips secrets (graphics passwords) unless VIR_DOMAIN_XML_SECURE is given, as libvirt does. */
function hideSecrets(xml: string): string {
  return xml.includes(' passwd=') ? xml.replace(/ passwd='[^']*'/g, '') : xml;
}

export class TestDriver implements Driver {
  readonly uri: string;
  readonly type = 'Test';
  readonly #backing: Backing;
  readonly #options: TestDriverOptions;
  readonly #listeners: EventHub;
  readonly #waiters = new Map<string, Set<(a: UnplugAnswer) => void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /**
   * Serialized live XML per live definition. Installed definitions are never edited in place
   * (every change builds a new one and swaps it in), so an entry can never go stale.
   */
  readonly #liveXml = new WeakMap<object, string>();
  #closed = false;

  constructor(backing: Backing, options: TestDriverOptions) {
    this.#backing = backing;
    this.#options = options;
    this.uri = options.uri;
    this.#listeners = new EventHub(options.onListenerError);
  }

  /** Delivers committed events; used by the backing after each transaction. */
  dispatch(events: DomainEvent[], after: (() => void)[]): void {
    this.#listeners.dispatch(events);
    for (const fn of after) fn();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const set of this.#waiters.values()) for (const w of set) w('gone');
    this.#waiters.clear();
    this.#listeners.clear();
    this.#backing.unfollow?.();
  }

  #run<T>(fn: (tx: Tx) => T | Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(virtError(ErrorCode.INVALID_CONN, 'connection is closed'));
    return this.#backing.run((tx) => {
      this.#reap(tx);
      return fn(tx);
    });
  }

  #read<T>(fn: (tx: Tx) => T): Promise<T> {
    if (this.#closed) return Promise.reject(virtError(ErrorCode.INVALID_CONN, 'connection is closed'));
    return this.#backing.persistent ? this.#run(fn) : this.#backing.read(fn);
  }

  /** Completes every unplug whose simulated guest has answered by now. */
  #reap(tx: Tx): void {
    if (tx.pending.size === 0) return;
    const now = Date.now();
    for (const obj of [...tx.pending]) {
      const live = obj.live;
      if (!live) {
        tx.pending.delete(obj);
        continue;
      }
      for (const p of live.pending.filter((x) => x.deadline <= now)) {
        if (p.outcome === 'remove') {
          hotplug.removeLiveDevice(tx, obj, p.alias);
          tx.after(() => this.#answer(obj.uuid, p.alias, 'removed'));
        } else {
          obj.live = { ...obj.live!, pending: obj.live!.pending.filter((x) => x !== p) };
          tx.touch(obj);
          tx.emit({ type: 'device-removal-failed', domain: refOf(obj), alias: p.alias });
          tx.after(() => this.#answer(obj.uuid, p.alias, 'rejected'));
        }
      }
      if (!obj.live || obj.live.pending.length === 0) tx.pending.delete(obj);
    }
  }

  #answer(uuid: string, alias: string, answer: UnplugAnswer): void {
    const key = `${uuid}\0${alias}`;
    const set = this.#waiters.get(key);
    if (!set) return;
    this.#waiters.delete(key);
    for (const w of set) w(answer);
  }

  /** Arms a timer that lets the simulated guest answer at `deadline`. */
  #schedule(deadline: number): void {
    if (!Number.isFinite(deadline) || this.#closed) return;
    const t = setTimeout(
      () => {
        this.#timers.delete(t);
        this.#run(() => undefined).catch(() => undefined);
      },
      Math.max(0, deadline - Date.now()),
    );
    this.#timers.add(t);
  }

  /** Waits up to the unplug timeout for the guest's answer. */
  #await(uuid: string, alias: string): Promise<UnplugAnswer | 'timeout'> {
    return new Promise((resolve) => {
      const key = `${uuid}\0${alias}`;
      let set = this.#waiters.get(key);
      if (!set) {
        set = new Set();
        this.#waiters.set(key, set);
      }
      const waiter = (a: UnplugAnswer): void => {
        clearTimeout(timer);
        resolve(a);
      };
      set.add(waiter);
      const timer = setTimeout(() => {
        set.delete(waiter);
        resolve('timeout');
      }, this.#options.unplugTimeoutMs);
    });
  }

  async getHostname(): Promise<string> {
    return hostname();
  }
  async getVersion(): Promise<number> {
    return 2_000_000; // libvirt's test driver reports hypervisor version 2.0.0
  }

  async listAllDomains(flags: number): Promise<DomainRef[]> {
    checkFlags(flags, 0xffff, 'virConnectListAllDomains');
    return this.#read((tx) => {
      const out: DomainRef[] = [];
      for (const obj of tx.table.all()) if (matchesListFlags(obj, flags)) out.push(refOf(obj));
      return out;
    });
  }
  lookupByName(name: string): Promise<DomainRef> {
    return this.#read((tx) => refOf(tx.table.byName(name)));
  }
  lookupByUUID(uuid: string): Promise<DomainRef> {
    return this.#read((tx) => refOf(tx.table.byUuid(uuid)));
  }
  lookupByID(id: number): Promise<DomainRef> {
    return this.#read((tx) => refOf(tx.table.byId(id)));
  }
  refresh(dom: DomainRef): Promise<DomainRef> {
    return this.#read((tx) => refOf(tx.table.resolve(dom)));
  }

  async defineXML(xml: string, flags: number): Promise<DomainRef> {
    checkFlags(flags, 1, 'virDomainDefineXMLFlags');
    if (flags & 1) await validateAgainstSchema(xml);
    const def = parseDomainXml(xml, { qemuHost: this.#options.qemuHost });
    return this.#run((tx) => refOf(lifecycle.define(tx, def)));
  }
  async createXML(xml: string, flags: number): Promise<DomainRef> {
    if (flags & 16) await validateAgainstSchema(xml);
    const def = parseDomainXml(xml, { qemuHost: this.#options.qemuHost });
    return this.#run((tx) => refOf(lifecycle.createTransient(tx, def, flags)));
  }
  undefine(dom: DomainRef, flags: number): Promise<void> {
    return this.#run((tx) => lifecycle.undefine(tx, tx.table.resolve(dom), flags));
  }
  create(dom: DomainRef, flags: number): Promise<DomainRef> {
    return this.#run((tx) => {
      const obj = tx.table.resolve(dom);
      lifecycle.start(tx, obj, flags);
      return refOf(obj);
    });
  }
  destroy(dom: DomainRef, flags: number): Promise<void> {
    return this.#run((tx) => {
      const obj = tx.table.resolve(dom);
      this.#dropWaiters(obj);
      lifecycle.destroy(tx, obj, flags);
    });
  }
  shutdown(dom: DomainRef, flags: number): Promise<void> {
    return this.#run((tx) => {
      const obj = tx.table.resolve(dom);
      this.#dropWaiters(obj);
      lifecycle.shutdown(tx, obj, flags);
    });
  }
  suspend(dom: DomainRef): Promise<void> {
    return this.#run((tx) => lifecycle.suspend(tx, tx.table.resolve(dom)));
  }
  resume(dom: DomainRef): Promise<void> {
    return this.#run((tx) => lifecycle.resume(tx, tx.table.resolve(dom)));
  }

  /** Unplugs waiting on a domain that stops end with the domain: the device is gone. */
  #dropWaiters(obj: DomainObj): void {
    const aliases = obj.live?.pending.map((p) => p.alias) ?? [];
    for (const a of aliases) queueMicrotask(() => this.#answer(obj.uuid, a, 'gone'));
  }

  async getXMLDesc(dom: DomainRef, flags: number): Promise<string> {
    checkFlags(flags, 0xf, 'virDomainGetXMLDesc');
    return this.#read((tx) => {
      const obj = tx.table.resolve(dom);
      let xml: string;
      if (obj.live && !(flags & DomainXML.INACTIVE)) {
        const def = obj.live.def;
        xml = this.#liveXml.get(def) ?? def.toXml();
        this.#liveXml.set(def, xml);
      }
      else if (obj.config !== undefined) xml = configXml(obj)!;
      else xml = inactiveOf(obj.live!.def).toXml();
      return flags & DomainXML.SECURE ? xml : hideSecrets(xml);
    });
  }
  getInfo(dom: DomainRef): Promise<DomainInfo> {
    return this.#read((tx) => {
      const obj = tx.table.resolve(dom);
      const def = obj.live?.def ?? configDef(obj)!;
      return {
        state: obj.live ? obj.live.state : DomainState.SHUTOFF,
        maxMem: def.memoryKiB,
        memory: def.currentMemoryKiB,
        nrVirtCpu: def.vcpus,
        cpuTime: obj.live ? (Date.now() - obj.live.startedAt) * 1_000_000 : 0,
      };
    });
  }
  getState(dom: DomainRef): Promise<DomainStateInfo> {
    return this.#read((tx) => {
      const obj = tx.table.resolve(dom);
      if (obj.live) return { state: obj.live.state, reason: obj.live.reason };
      return { state: DomainState.SHUTOFF, reason: obj.shutoffReason ?? StateReason.SHUTOFF_UNKNOWN };
    });
  }
  isActive(dom: DomainRef): Promise<boolean> {
    return this.#read((tx) => tx.table.resolve(dom).live !== undefined);
  }
  isPersistent(dom: DomainRef): Promise<boolean> {
    return this.#read((tx) => tx.table.resolve(dom).config !== undefined);
  }
  getOSType(dom: DomainRef): Promise<string> {
    return this.#read((tx) => {
      const obj = tx.table.resolve(dom);
      return (obj.live?.def ?? configDef(obj)!).os.type;
    });
  }
  /** The test driver has no autostart: domains start only when asked. */
  getAutostart(dom: DomainRef): Promise<boolean> {
    return this.#read((tx) => {
      tx.table.resolve(dom);
      return false;
    });
  }
  /** The test driver has no managed save. */
  async hasManagedSaveImage(dom: DomainRef, flags: number): Promise<boolean> {
    checkFlags(flags, 0, 'virDomainHasManagedSaveImage');
    return this.#read((tx) => {
      tx.table.resolve(dom);
      return false;
    });
  }

  attachDevice(dom: DomainRef, xml: string, flags: number): Promise<AttachResult> {
    return this.#run((tx) => hotplug.attachDevice(tx, tx.table.resolve(dom), xml, flags, this.#options.qemuHost));
  }

  async detachDevice(dom: DomainRef, xml: string, flags: number): Promise<DetachResult> {
    const started = await this.#run((tx) => {
      const obj = tx.table.resolve(dom);
      return { obj, ...hotplug.startDetach(tx, obj, xml, flags, Date.now()) };
    });
    return this.#finishDetach(started, true);
  }

  async detachDeviceAlias(dom: DomainRef, alias: string, flags: number): Promise<DetachResult> {
    const started = await this.#run((tx) => {
      const obj = tx.table.resolve(dom);
      return { obj, ...hotplug.startDetachAlias(tx, obj, alias, flags, Date.now()) };
    });
    // libvirt's alias detach is asynchronous: it returns as soon as the request is sent.
    return this.#finishDetach(started, false);
  }

  async #finishDetach(started: hotplug.DetachStart & { obj: DomainObj }, wait: boolean): Promise<DetachResult> {
    const live = started.live;
    if (!live || live.outcome === 'removed') return hotplug.detachResult(live);
    this.#schedule(live.deadline);
    const answer = wait ? await this.#await(started.obj.uuid, live.alias) : 'timeout';
    if (answer === 'rejected') throw virtError(ErrorCode.OPERATION_FAILED, 'unplug of device was rejected by the guest');
    if (started.commitConfig) {
      const commit = started.commitConfig;
      await this.#run((tx) => commit(tx));
    }
    if (answer === 'removed' || answer === 'gone') return { outcome: 'removed', alias: live.alias };
    return { outcome: 'pending', alias: live.alias };
  }

  updateDevice(dom: DomainRef, xml: string, flags: number): Promise<void> {
    return this.#run((tx) => hotplug.updateDevice(tx, tx.table.resolve(dom), xml, flags));
  }

  async subscribe(listener: EventListener): Promise<Unsubscribe> {
    if (this.#closed) throw virtError(ErrorCode.INVALID_CONN, 'connection is closed');
    this.#listeners.add(listener);
    // Follow the folder's event log only while someone listens: it costs a timer.
    if (this.#listeners.size === 1) this.#backing.follow?.((e) => this.dispatch([e], []));
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#backing.unfollow?.();
    };
  }
}

async function validateAgainstSchema(xml: string): Promise<void> {
  const { validateDomainXml } = await import('../../conf/schema.js');
  await validateDomainXml(xml);
}

function matchesListFlags(obj: DomainObj, flags: number): boolean {
  const active = obj.live !== undefined;
  const persistent = obj.config !== undefined;
  const state = obj.live?.state ?? DomainState.SHUTOFF;
  const pick = (on: number, off: number, value: boolean): boolean => {
    const a = (flags & on) !== 0;
    const b = (flags & off) !== 0;
    return a === b || (a ? value : !value);
  };
  if (!pick(ListDomains.ACTIVE, ListDomains.INACTIVE, active)) return false;
  if (!pick(ListDomains.PERSISTENT, ListDomains.TRANSIENT, persistent)) return false;
  const stateFlags = flags & (ListDomains.RUNNING | ListDomains.PAUSED | ListDomains.SHUTOFF | ListDomains.OTHER);
  if (stateFlags) {
    const ok =
      (flags & ListDomains.RUNNING && state === DomainState.RUNNING) ||
      (flags & ListDomains.PAUSED && state === DomainState.PAUSED) ||
      (flags & ListDomains.SHUTOFF && state === DomainState.SHUTOFF) ||
      (flags & ListDomains.OTHER && ![DomainState.RUNNING, DomainState.PAUSED, DomainState.SHUTOFF].includes(state as 1));
    if (!ok) return false;
  }
  if (flags & ListDomains.MANAGEDSAVE) return false;
  if (flags & ListDomains.AUTOSTART) return false;
  if (flags & ListDomains.HAS_SNAPSHOT) return false;
  if (flags & ListDomains.HAS_CHECKPOINT) return false;
  return true;
}

