/**
 * One hot-plug engine for every driver that runs domains: a `Driver` made of a domain store
 * (memory or state folder) and a hypervisor backend (the test driver's simulated guest, QEMU
 * over QMP). Each call: lock the domain → plan (parse, resolve flags, build the new config and
 * live definitions with names and addresses) → hypervisor step (backend) → commit (persist,
 * swap in, emit events); a failure anywhere before the commit leaves every definition as it was.
 */
import { hostname } from 'node:os';
import { HOST_NAME_ATTEMPTS, isHostNameTaken } from './backend.js';
import { checkFlags, type DomainDef, parseDomainXml, parseDomainXmlFormatted } from '../conf/index.js';
import { ErrorCode } from '../errors.js';
import type { EventListener } from '../shared/event-hub.js';
import type { DomainEvent, DomainRef } from '../shared/events.js';
import type { DefineOptions, DetachOptions, DetachOutcome, PendingDevice } from '../shared/hotplug-contract.js';
import type { ApplyOptions, ApplyResult, DevicePlan } from '../shared/declarative.js';
import { DeviceModify, DomainState, DomainXML, LifecycleDetail, LifecycleEvent, ListDomains, StateReason, StoragePoolState } from '../shared/flags.js';
import type { AttachResult, DetachResult, DomainInfo, DomainStateInfo, Driver, Unsubscribe } from '../shared/driver.js';
import type { BlockInfo, ConsoleStream, DomainInterface, NetworkInfo, NodeInfo, StoragePoolInfo, StorageVolInfo } from '../shared/host-types.js';
import { getAutostart, reboot, setAutostart, setMemoryFlags, setVcpusFlags } from './domain-settings.js';
import { askHost, filterByFlags, filterPoolTypes, getBlockInfo, interfaceAddresses, openConsole } from './guest-info.js';
import { configDef, configXml, type DomainObj, liveDomain, refOf } from './domain-obj.js';
import { type DomainKey, EngineCore, type EngineOptions } from './engine-core.js';
import { inactiveOf } from './naming.js';
import { checkApplyOptions, checkDefineOptions, checkDetachOptions } from './contract-options.js';
import { applyPlan } from './apply-devices.js';
import { planDevices } from './plan-devices.js';
import { withHotplugSlots } from './hotplug-slots.js';
import { type DetachCall, isolatePending, runDetach } from './detach.js';
import { pendingDevices as listPending, reasonOf, stateOf, stripPendingMark, withPendingMark } from './pending.js';
import { type DetachPlan, planAttach, planDetach, planDetachAlias, planPersist, planUpdate } from './plan-hotplug.js';
import {
  bootEvents,
  checkCreate,
  checkIdentity,
  checkResume,
  checkStart,
  checkSuspend,
  lifecycleEvent,
  planBoot,
  planDefine,
  planStopped,
  planUndefine,
  requireActive,
} from './plan-lifecycle.js';
import { noDomainById, noDomainByUuid } from './table.js';

export type { EngineOptions } from './engine-core.js';

/** Strips secrets (graphics passwords) unless VIR_DOMAIN_XML_SECURE is given, as libvirt does. */
function hideSecrets(xml: string): string {
  return xml.includes(' passwd=') ? xml.replace(/ passwd='[^']*'/g, '') : xml;
}

export class Engine implements Driver {
  readonly uri: string;
  readonly type: string;
  readonly hotplugContract = true;
  readonly #core: EngineCore;
  /**
   * Serialized live XML per live state (its pending marks included). Installed states are never
   * edited in place (every change builds a new one and swaps it in), so an entry can never go stale.
   */
  readonly #liveXml = new WeakMap<object, string>();

  constructor(options: EngineOptions) {
    this.uri = options.uri;
    this.type = options.backend.type;
    this.#core = new EngineCore(options);
  }

  /** Defines (and starts) a driver's default domain in a store that never held anything. */
  async seed(def: DomainDef, running: boolean): Promise<void> {
    const core = this.#core;
    await core.store.withDomain(def.name, () =>
      core.store.withDriver(async (counters, table) => {
        if (!core.store.isFresh()) return;
        checkIdentity(table(), def);
        const defined = planDefine(undefined, def);
        let next = defined.next!;
        const events = defined.events;
        if (running) {
          const live = planBoot(def, counters, 0, core.hostNameTaken);
          const runtime = await core.backend.start(liveDomain(next, live), { paused: false });
          next = { ...next, live: { ...live, runtime } };
          events.push(...bootEvents(next, 0));
        }
        core.commit(def.name, next, events);
      }),
    );
  }

  async close(): Promise<void> {
    if (this.#core.closed) return;
    await this.#core.close();
  }

  async getHostname(): Promise<string> {
    this.#core.check();
    return hostname();
  }
  async getVersion(): Promise<number> {
    this.#core.check();
    return this.#core.backend.version();
  }

  /** Reads a domain without its lock, reconciling first when the backend has news for it. */
  async #read<T>(key: DomainKey, fn: (obj: DomainObj) => T): Promise<T> {
    this.#core.check();
    const obj = this.#core.resolve(key);
    return fn(this.#core.stale(obj) ? await this.#core.fresh(obj) : obj);
  }

  async listAllDomains(flags: number): Promise<DomainRef[]> {
    this.#core.check();
    checkFlags(flags, 0xffff, 'virConnectListAllDomains');
    const out: DomainRef[] = [];
    for (let obj of [...this.#core.store.table().all()]) {
      if (this.#core.stale(obj)) {
        try {
          obj = await this.#core.fresh(obj);
        } catch (err) {
          // Gone meanwhile (a transient domain that stopped): not listed.
          if ((err as { code?: number }).code === ErrorCode.NO_DOMAIN) continue;
          throw err;
        }
      }
      if (matchesListFlags(obj, flags, getAutostart(this.#core, obj))) out.push(refOf(obj));
    }
    return out;
  }
  lookupByName(name: string): Promise<DomainRef> {
    return this.#read({ name }, refOf);
  }
  async lookupByUUID(uuid: string): Promise<DomainRef> {
    this.#core.check();
    const { store } = this.#core;
    // The cached table is a hint: the record of the name it gives is checked afresh.
    const hint = store.cached().findUuid(uuid);
    const hit = hint && store.get(hint.name)?.uuid === hint.uuid ? hint : store.table().findUuid(uuid);
    if (!hit) throw noDomainByUuid(uuid);
    return this.#read(hit, refOf);
  }
  async lookupByID(id: number): Promise<DomainRef> {
    this.#core.check();
    const { store } = this.#core;
    const hint = store.cached().findId(id);
    const hit = hint && store.get(hint.name)?.live?.id === id ? hint : store.table().findId(id);
    if (!hit) throw noDomainById(id);
    const ref = await this.#read(hit, refOf);
    if (ref.id !== id) throw noDomainById(id);
    return ref;
  }
  refresh(dom: DomainRef): Promise<DomainRef> {
    return this.#read(dom, refOf);
  }

  /** virDomainDefineXMLFlags; with options, the contract's define (`hotplugSlots`: free hot-plug slots reserved). */
  async defineXML(xml: string, flags: number, options?: DefineOptions): Promise<DomainRef> {
    this.#core.check();
    checkFlags(flags, 1, 'virDomainDefineXMLFlags');
    const slots = checkDefineOptions(options, 'virDomainDefineXMLFlags');
    if (flags & 1) await validateAgainstSchema(xml);
    const parse = (text: string): DomainDef => parseDomainXml(text, { qemuHost: this.#core.qemuHost });
    // The plain define formats the definition once, while checking its size, and stores those bytes.
    const formatted = slots === 0 ? parseDomainXmlFormatted(xml, { qemuHost: this.#core.qemuHost }) : undefined;
    const def = formatted ? formatted.def : withHotplugSlots(xml, slots, parse);
    const utf8 = stripPendingMark(def) ? undefined : formatted?.utf8;
    const core = this.#core;
    return core.store.withDomain(def.name, () =>
      core.store.withDriver((_counters, table) => {
        core.check();
        const current = checkIdentity(table(), def);
        const { next, events } = planDefine(current, def, utf8);
        core.commit(def.name, next, events);
        return refOf(next!);
      }),
    );
  }

  async createXML(xml: string, flags: number): Promise<DomainRef> {
    this.#core.check();
    if (flags & 16) await validateAgainstSchema(xml);
    const def = parseDomainXml(xml, { qemuHost: this.#core.qemuHost });
    stripPendingMark(def);
    const core = this.#core;
    // The driver lock stays held while the domain boots: until it is committed, nothing else may take its name or UUID.
    return core.store.withDomain(def.name, () =>
      core.store.withDriver(async (counters, table) => {
        core.check();
        const current = checkCreate(table(), def, flags);
        const base: DomainObj = current ?? { name: def.name, uuid: def.uuid };
        const { live, runtime } = await withFreshHostNames(async () => {
          const live = planBoot(def, counters, flags, core.hostNameTaken);
          return { live, runtime: await core.backend.start(liveDomain(base, live), { paused: (flags & 1) !== 0 }) };
        });
        const next: DomainObj = { name: base.name, uuid: base.uuid, config: base.config, live: { ...live, runtime } };
        core.commit(def.name, next, bootEvents(next, flags));
        return refOf(next);
      }),
    );
  }

  undefine(dom: DomainRef, flags: number): Promise<void> {
    return this.#core.locked(dom, async (obj) => {
      const { next, events } = planUndefine(obj, flags);
      this.#core.commit(obj.name, next, events);
    });
  }

  create(dom: DomainRef, flags: number): Promise<DomainRef> {
    const core = this.#core;
    return core.locked(dom, async (obj) => {
      const def = checkStart(obj, flags);
      const { live, runtime } = await withFreshHostNames(async () => {
        const live = await core.store.withDriver((counters) => planBoot(def, counters, flags, core.hostNameTaken));
        return { live, runtime: await core.backend.start(liveDomain(obj, live), { paused: (flags & 1) !== 0 }) };
      });
      const next: DomainObj = { name: obj.name, uuid: obj.uuid, config: obj.config, live: { ...live, runtime } };
      core.commit(obj.name, next, bootEvents(next, flags));
      return refOf(next);
    });
  }

  destroy(dom: DomainRef, flags: number): Promise<void> {
    return this.#stop(dom, 'destroy', () => {
      checkFlags(flags, 1 | 2, 'virDomainDestroyFlags');
    });
  }

  shutdown(dom: DomainRef, flags: number): Promise<void> {
    return this.#stop(dom, 'shutdown', () => {
      checkFlags(flags, 1 | 2 | 4 | 8 | 16, 'virDomainShutdownFlags');
    });
  }

  async #stop(dom: DomainRef, how: 'destroy' | 'shutdown', checks: () => void): Promise<void> {
    const core = this.#core;
    core.check();
    checks();
    // A detach of this process waiting on the domain gives up its lock now, as libvirt's destroy does not wait for jobs.
    core.stopping.add(dom.uuid);
    core.signals.signal(dom.uuid);
    try {
      await core.locked(dom, async (obj) => {
        requireActive(obj);
        const result = await core.backend.stop(liveDomain(obj), how);
        if (result === 'requested') return;
        const { next, events } =
          how === 'destroy'
            ? planStopped(obj, StateReason.SHUTOFF_DESTROYED, LifecycleDetail.STOPPED_DESTROYED)
            : planStopped(obj, StateReason.SHUTOFF_SHUTDOWN, LifecycleDetail.STOPPED_SHUTDOWN);
        core.commit(obj.name, next, events);
      });
    } finally {
      core.stopping.delete(dom.uuid);
    }
  }

  suspend(dom: DomainRef): Promise<void> {
    const core = this.#core;
    return core.locked(dom, async (obj) => {
      const live = checkSuspend(obj);
      const runtime = await core.backend.suspend(liveDomain(obj));
      const next = { ...obj, live: { ...live, state: DomainState.PAUSED, reason: StateReason.PAUSED_USER, runtime: runtime ?? live.runtime } };
      core.commit(obj.name, next, [lifecycleEvent(next, LifecycleEvent.SUSPENDED, LifecycleDetail.SUSPENDED_PAUSED)]);
    });
  }

  resume(dom: DomainRef): Promise<void> {
    const core = this.#core;
    return core.locked(dom, async (obj) => {
      const live = checkResume(obj);
      const runtime = await core.backend.resume(liveDomain(obj));
      const next = { ...obj, live: { ...live, state: DomainState.RUNNING, reason: StateReason.RUNNING_UNPAUSED, runtime: runtime ?? live.runtime } };
      core.commit(obj.name, next, [lifecycleEvent(next, LifecycleEvent.RESUMED, LifecycleDetail.RESUMED_UNPAUSED)]);
    });
  }

  async getXMLDesc(dom: DomainRef, flags: number): Promise<string> {
    this.#core.check();
    checkFlags(flags, 0xf, 'virDomainGetXMLDesc');
    return this.#read(dom, (obj) => {
      let xml: string;
      if (obj.live && !(flags & DomainXML.INACTIVE)) {
        const live = obj.live;
        xml = this.#liveXml.get(live) ?? withPendingMark(live).toXml();
        this.#liveXml.set(live, xml);
      } else if (obj.config !== undefined) xml = configXml(obj)!;
      else xml = inactiveOf(obj.live!.def).toXml();
      return flags & DomainXML.SECURE ? xml : hideSecrets(xml);
    });
  }
  getInfo(dom: DomainRef): Promise<DomainInfo> {
    return this.#read(dom, (obj) => {
      const def = obj.live?.def ?? configDef(obj)!;
      return {
        state: obj.live ? obj.live.state : DomainState.SHUTOFF,
        maxMem: def.memoryKiB,
        memory: def.currentMemoryKiB,
        nrVirtCpu: def.currentVcpus,
        cpuTime: obj.live ? (Date.now() - obj.live.startedAt) * 1_000_000 : 0,
      };
    });
  }
  getState(dom: DomainRef): Promise<DomainStateInfo> {
    return this.#read(dom, (obj) =>
      obj.live
        ? { state: obj.live.state, reason: obj.live.reason }
        : { state: DomainState.SHUTOFF, reason: obj.shutoffReason ?? StateReason.SHUTOFF_UNKNOWN },
    );
  }
  isActive(dom: DomainRef): Promise<boolean> {
    return this.#read(dom, (obj) => obj.live !== undefined);
  }
  isPersistent(dom: DomainRef): Promise<boolean> {
    return this.#read(dom, (obj) => obj.config !== undefined);
  }
  getOSType(dom: DomainRef): Promise<string> {
    return this.#read(dom, (obj) => (obj.live?.def ?? configDef(obj)!).os.type);
  }
  /** Whether the domain is marked to start with the driver (the mark is kept; nothing starts domains on open yet). */
  getAutostart(dom: DomainRef): Promise<boolean> {
    return this.#read(dom, (obj) => getAutostart(this.#core, obj));
  }
  /** No managed save (yet). */
  async hasManagedSaveImage(dom: DomainRef, flags: number): Promise<boolean> {
    this.#core.check();
    checkFlags(flags, 0, 'virDomainHasManagedSaveImage');
    return this.#read(dom, () => false);
  }

  attachDevice(dom: DomainRef, xml: string, flags: number): Promise<AttachResult> {
    const core = this.#core;
    return core.locked(dom, async (obj) => {
      const { plan, live } = await withFreshHostNames(async () => {
        const plan = await core.store.withDriver((counters) => planAttach(obj, xml, flags, counters, core.qemuHost, core.hostNameTaken));
        let live = plan.live;
        if (live && plan.device) {
          // The record is written (and flushed) while the hypervisor plugs; the commit then only renames it.
          core.store.stage?.(obj.name, { ...obj, config: plan.config ?? obj.config, live });
          const runtime = await core.backend.attach(liveDomain(obj, live), plan.device);
          if (runtime) live = { ...live, runtime };
        }
        return { plan, live };
      });
      const next: DomainObj = { ...obj, config: plan.config ?? obj.config, live: live ?? obj.live };
      const events: DomainEvent[] = live && plan.alias !== undefined ? [{ type: 'device-added', domain: refOf(next), alias: plan.alias }] : [];
      try {
        await core.store.staged?.(obj.name);
        core.commit(obj.name, next, events);
      } catch (err) {
        // Plugged but not recorded: unplug again, so the hypervisor matches the definitions.
        if (live && plan.device) await core.backend.detachNow(liveDomain(obj, live), plan.device).catch(() => undefined);
        throw err;
      }
      return { alias: plan.alias };
    }, { warm: reachesLive(flags) });
  }

  /**
   * virDomainDetachDeviceFlags. Without options, libvirt's call: the request goes to the hypervisor
   * (again, for a device already pending), the call waits up to the unplug timeout for the guest
   * and reports `removed` or `pending` ("request sent"). With options, virtkit's contract (src/shared/hotplug-contract.ts).
   */
  detachDevice(dom: DomainRef, xml: string, flags: number): Promise<DetachResult>;
  detachDevice(dom: DomainRef, xml: string, flags: number, options: DetachOptions): Promise<DetachOutcome>;
  detachDevice(dom: DomainRef, xml: string, flags: number, options?: DetachOptions): Promise<DetachResult | DetachOutcome> {
    const contract = options === undefined ? undefined : checkDetachOptions(options, 'virDomainDetachDeviceFlags');
    const waitMs = contract?.waitMs ?? this.#core.unplugTimeoutMs;
    return this.#detach(dom, (obj) => planDetach(obj, xml, flags, { contract: contract !== undefined, ifPresent: contract?.ifPresent }), {
      contract,
      waitMs,
      configAtOnce: false,
    }, flags);
  }

  /** virDomainDetachDeviceAlias. libvirt's is asynchronous: it returns as soon as the request is sent. */
  detachDeviceAlias(dom: DomainRef, alias: string, flags: number): Promise<DetachResult>;
  detachDeviceAlias(dom: DomainRef, alias: string, flags: number, options: DetachOptions): Promise<DetachOutcome>;
  detachDeviceAlias(dom: DomainRef, alias: string, flags: number, options?: DetachOptions): Promise<DetachResult | DetachOutcome> {
    const contract = options === undefined ? undefined : checkDetachOptions(options, 'virDomainDetachDeviceAlias');
    return this.#detach(dom, (obj) => planDetachAlias(obj, alias, flags, { contract: contract !== undefined, ifPresent: contract?.ifPresent }), {
      contract,
      waitMs: contract?.waitMs ?? 0,
      configAtOnce: contract === undefined,
    }, flags);
  }

  #detach(dom: DomainRef, plan: (obj: DomainObj) => DetachPlan, call: DetachCall, flags: number): Promise<DetachResult | DetachOutcome> {
    return this.#core.locked(dom, async (start) => {
      const outcome = await runDetach(this.#core, start, plan(start), call);
      if (call.contract) return outcome;
      // libvirt's calls keep their result shape.
      return outcome.alias === undefined ? { outcome: outcome.outcome } : { outcome: outcome.outcome, alias: outcome.alias };
    }, { warm: reachesLive(flags) });
  }

  /**
   * The contract's persistDevice: adds a live device (by alias) to the persistent definition with the
   * same MAC and PCI address it has in the guest, so it comes back where it is after a restart.
   */
  persistDevice(dom: DomainRef, alias: string): Promise<AttachResult> {
    const core = this.#core;
    return core.locked(dom, async (obj) => {
      const config = planPersist(obj, alias, core.qemuHost);
      // Config only: no device event.
      core.commit(obj.name, { ...obj, config }, []);
      return { alias };
    });
  }

  /** The contract's isolate: cuts a device whose unplug is pending off from the host (pending-until-shutdown). */
  isolateDevice(dom: DomainRef, alias: string): Promise<DetachOutcome> {
    const core = this.#core;
    return core.locked(dom, async (obj) => {
      const next = await isolatePending(core, obj, alias);
      const live = next.live!;
      const entry = live.pending.find((p) => p.alias === alias)!;
      return { status: 'pending', outcome: 'pending', alias, reason: reasonOf(live, entry), since: entry.requestedAt, state: stateOf(entry), ...(entry.requestId ? { requestId: entry.requestId } : {}) };
    });
  }

  /** Declarative devices: the hot-plug calls that make the domain's devices those of `xml` (src/hypervisor/plan-devices.ts). */
  planDevices(dom: DomainRef, xml: string): Promise<DevicePlan> {
    const qemuHost = this.#core.qemuHost;
    return this.#read(dom, (obj) => planDevices({ name: obj.name, uuid: obj.uuid, config: configDef(obj), live: obj.live?.def, qemuHost }, xml));
  }

  /** Declarative devices: plans, then runs the calls in order through this driver, stopping at the first failure. */
  async applyDevices(dom: DomainRef, xml: string, options?: ApplyOptions): Promise<ApplyResult> {
    const opts = checkApplyOptions(options, 'applyDevices');
    const plan = await this.planDevices(dom, xml);
    return applyPlan(plan, {
      attach: (x, f) => this.attachDevice(dom, x, f),
      detach: (x, f, o) => this.detachDevice(dom, x, f, o),
      update: (x, f) => this.updateDevice(dom, x, f),
    }, opts);
  }

  /** Devices of a running domain whose unplug is outstanding, with why and since when. */
  pendingDevices(dom: DomainRef): Promise<PendingDevice[]> {
    return this.#read(dom, (obj) => listPending(obj.live, Date.now()));
  }

  updateDevice(dom: DomainRef, xml: string, flags: number): Promise<void> {
    const core = this.#core;
    return core.locked(dom, async (obj) => {
      const plan = planUpdate(obj, xml, flags);
      if (plan.live && plan.change) await core.backend.update(liveDomain(obj, plan.live), plan.change);
      core.commit(obj.name, { ...obj, config: plan.config ?? obj.config, live: plan.live ?? obj.live }, []);
    }, { warm: reachesLive(flags) });
  }

  // Domain settings and guest/host information (src/hypervisor/domain-settings.ts, guest-info.ts).
  reboot(dom: DomainRef, flags: number): Promise<void> {
    return reboot(this.#core, dom, flags);
  }
  setAutostart(dom: DomainRef, on: boolean): Promise<void> {
    return setAutostart(this.#core, dom, on);
  }
  setMemoryFlags(dom: DomainRef, kib: number, flags: number): Promise<void> {
    return setMemoryFlags(this.#core, dom, kib, flags);
  }
  setVcpusFlags(dom: DomainRef, count: number, flags: number): Promise<void> {
    return setVcpusFlags(this.#core, dom, count, flags);
  }
  interfaceAddresses(dom: DomainRef, source: number, flags: number): Promise<DomainInterface[]> {
    return interfaceAddresses(this.#core, dom, source, flags);
  }
  getBlockInfo(dom: DomainRef, disk: string, flags: number): Promise<BlockInfo> {
    return getBlockInfo(this.#core, dom, disk, flags);
  }
  openConsole(dom: DomainRef, devname: string | undefined, flags: number): Promise<ConsoleStream> {
    return openConsole(this.#core, dom, devname, flags);
  }
  nodeGetInfo(): Promise<NodeInfo> {
    return askHost(this.#core, this.#core.backend.nodeInfo, 'virNodeGetInfo');
  }
  getCapabilities(): Promise<string> {
    return askHost(this.#core, this.#core.backend.capabilities, 'virConnectGetCapabilities');
  }
  async getDomainCapabilities(emulator: string | undefined, arch: string | undefined, machine: string | undefined, virttype: string | undefined, flags: number): Promise<string> {
    checkFlags(flags, 0, 'virConnectGetDomainCapabilities');
    const b = this.#core.backend;
    const ask = b.domainCapabilities ? () => b.domainCapabilities!(emulator, arch, machine, virttype) : undefined;
    return askHost(this.#core, ask, 'virConnectGetDomainCapabilities');
  }
  async listAllNetworks(flags: number): Promise<NetworkInfo[]> {
    checkFlags(flags, 0x3f, 'virConnectListAllNetworks');
    const all = await askHost(this.#core, this.#core.backend.networks, 'virConnectListAllNetworks');
    return filterByFlags(all, flags, (n) => n.active);
  }
  async listAllStoragePools(flags: number): Promise<StoragePoolInfo[]> {
    checkFlags(flags, 0xfffff, 'virConnectListAllStoragePools');
    const all = await askHost(this.#core, this.#core.backend.storagePools, 'virConnectListAllStoragePools');
    return filterPoolTypes(filterByFlags(all, flags & 0x3f, (p) => p.state === StoragePoolState.RUNNING), flags);
  }
  async listAllVolumes(pool: string, flags: number): Promise<StorageVolInfo[]> {
    checkFlags(flags, 0, 'virStoragePoolListAllVolumes');
    const b = this.#core.backend;
    const ask = b.volumes ? () => b.volumes!(pool) : undefined;
    return askHost(this.#core, ask, 'virStoragePoolListAllVolumes');
  }

  async subscribe(listener: EventListener): Promise<Unsubscribe> {
    const core = this.#core;
    core.check();
    core.hub.add(listener);
    // Follow the folder's event log only while someone listens: it costs a timer.
    if (core.hub.size === 1) core.store.follow?.((e) => core.hub.dispatch([e]));
    return () => {
      core.hub.delete(listener);
      if (core.hub.size === 0) core.store.unfollow?.();
    };
  }
}

async function validateAgainstSchema(xml: string): Promise<void> {
  const { validateDomainXml } = await import('../conf/schema.js');
  await validateDomainXml(xml);
}

function matchesListFlags(obj: DomainObj, flags: number, autostart: boolean): boolean {
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
  // No managed save, snapshots or checkpoints (yet): only their "without" side matches.
  return (
    pick(ListDomains.AUTOSTART, ListDomains.NO_AUTOSTART, autostart) &&
    pick(ListDomains.MANAGEDSAVE, ListDomains.NO_MANAGEDSAVE, false) &&
    pick(ListDomains.HAS_SNAPSHOT, ListDomains.NO_SNAPSHOT, false) &&
    pick(ListDomains.HAS_CHECKPOINT, ListDomains.NO_CHECKPOINT, false)
  );
}

/** Whether a device call with these flags may change the running domain (everything but CONFIG alone). */
function reachesLive(flags: number): boolean {
  return (flags & DeviceModify.LIVE) !== 0 || (flags & DeviceModify.CONFIG) === 0;
}

/**
 * Runs a plan and its hypervisor step again when the backend found a host-side name the plan chose
 * taken meanwhile (a tap another state folder on the host created): the next plan steps over it.
 */
async function withFreshHostNames<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (!isHostNameTaken(err) || attempt >= HOST_NAME_ATTEMPTS) throw err;
    }
  }
}
