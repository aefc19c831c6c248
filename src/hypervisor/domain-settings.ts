/**
 * Settings of a domain that are not devices: autostart, memory, vCPUs, and reboot, as
 * libvirt's QEMU driver applies them (virDomainSetAutostart, virDomainSetMemoryFlags,
 * virDomainSetVcpusFlags, virDomainReboot) on every driver of the engine. The definition
 * changes are planned here; the running guest is changed by the backend's optional
 * `setMemory` / `setVcpus` / `reboot` (VIR_ERR_NO_SUPPORT when it has none).
 */
import { checkFlags, type DomainDef, resolveImpact } from '../conf/index.js';
import { ErrorCode, virtError } from '../errors.js';
import { DomainMemory, DomainState, DomainVcpus, LifecycleDetail, StateReason } from '../shared/flags.js';
import { el, type XmlElement } from '../xml/index.js';
import type { DomainRef } from '../shared/events.js';
import type { Runtime } from './backend.js';
import { configDef, type DomainObj, liveDomain, type LiveState, storeDef } from './domain-obj.js';
import type { EngineCore } from './engine-core.js';
import { planStopped, requireActive } from './plan-lifecycle.js';

function noSupport(api: string): Error {
  return virtError(ErrorCode.NO_SUPPORT, api);
}

/** libvirt's order of the top-level elements these settings add. */
const MEMORY_ORDER = ['name', 'uuid', 'genid', 'title', 'description', 'metadata', 'maxMemory', 'memory', 'currentMemory', 'blkiotune', 'memtune', 'memoryBacking', 'vcpu'];

function setKiB(root: XmlElement, name: 'memory' | 'currentMemory', kib: number): void {
  let e = root.child(name);
  if (!e) {
    e = el(name);
    root.insertOrdered(e, MEMORY_ORDER);
  }
  for (const a of [...e.attrs]) e.removeAttr(a[0]);
  e.setAttr('unit', 'KiB').setText(kib);
}

/** A copy of `def` with its memory figures changed (maximum, current), current never above the maximum. */
function withMemory(def: DomainDef, change: { max?: number; current?: number }): DomainDef {
  const next = def.clone();
  const max = change.max ?? def.memoryKiB;
  if (change.max !== undefined) setKiB(next.root, 'memory', max);
  const current = Math.min(change.current ?? def.currentMemoryKiB, max);
  setKiB(next.root, 'currentMemory', current);
  return next;
}

/** A copy of `def` with its vCPU figures changed (maximum, current); `current` is written only when it differs. */
function withVcpus(def: DomainDef, change: { max?: number; current?: number }): DomainDef {
  const next = def.clone();
  const max = change.max ?? def.vcpus;
  const current = Math.min(change.current ?? def.currentVcpus, max);
  let v = next.root.child('vcpu');
  if (!v) {
    v = el('vcpu', { placement: 'static' });
    next.root.insertOrdered(v, MEMORY_ORDER);
  }
  v.setText(max);
  if (current === max) v.removeAttr('current');
  else v.setAttr('current', current);
  return next;
}

function withConfig(obj: DomainObj, def: DomainDef): DomainObj {
  return { ...obj, config: storeDef(def) };
}

function withLive(obj: DomainObj, live: LiveState, def: DomainDef, runtime: Runtime | undefined): DomainObj {
  return { ...obj, live: { ...live, def, runtime: runtime ?? live.runtime } };
}

/** virDomainSetAutostart: persistent domains only (a transient one has nothing to start). */
export function setAutostart(core: EngineCore, dom: DomainRef, on: boolean): Promise<void> {
  return core.locked(dom, async (obj) => {
    if (obj.config === undefined) throw virtError(ErrorCode.OPERATION_INVALID, 'cannot set autostart for transient domain');
    core.store.setAutostart(obj.name, on);
  });
}

export function getAutostart(core: EngineCore, obj: DomainObj): boolean {
  return obj.config !== undefined && core.store.getAutostart(obj.name);
}

/** virDomainSetMemoryFlags: the current (balloon) memory, or with MAXIMUM the maximum (config only). */
export function setMemoryFlags(core: EngineCore, dom: DomainRef, kib: number, flags: number): Promise<void> {
  const fn = 'virDomainSetMemoryFlags';
  checkFlags(flags, DomainMemory.LIVE | DomainMemory.CONFIG | DomainMemory.MAXIMUM, fn);
  return core.locked(dom, async (obj) => {
    const impact = resolveImpact(flags & (DomainMemory.LIVE | DomainMemory.CONFIG), { active: obj.live !== undefined, persistent: obj.config !== undefined });
    let next = obj;
    if (flags & DomainMemory.MAXIMUM) {
      if (impact.live) throw virtError(ErrorCode.OPERATION_INVALID, 'cannot resize the maximum memory on an active domain');
      next = withConfig(next, withMemory(configDef(obj)!, { max: kib }));
    } else {
      const tooHigh = (def: DomainDef): void => {
        if (kib > def.memoryKiB) throw virtError(ErrorCode.INVALID_ARG, 'cannot set memory higher than max memory');
      };
      const config = impact.config ? configDef(obj)! : undefined;
      if (config) tooHigh(config);
      if (impact.live) {
        const live = obj.live!;
        tooHigh(live.def);
        const apply = core.backend.setMemory;
        if (!apply) throw noSupport(fn);
        const runtime = await apply.call(core.backend, liveDomain(obj), kib);
        next = withLive(next, live, withMemory(live.def, { current: kib }), runtime);
      }
      if (config) next = withConfig(next, withMemory(config, { current: kib }));
    }
    core.commit(obj.name, next, []);
  });
}

/** virDomainSetVcpusFlags: the vCPUs online, or with MAXIMUM the maximum (config only). */
export function setVcpusFlags(core: EngineCore, dom: DomainRef, count: number, flags: number): Promise<void> {
  const fn = 'virDomainSetVcpusFlags';
  checkFlags(flags, DomainVcpus.LIVE | DomainVcpus.CONFIG | DomainVcpus.MAXIMUM, fn);
  if (count < 1) throw virtError(ErrorCode.INVALID_ARG, `nvcpus in ${fn} must be at least 1, got ${count}`);
  return core.locked(dom, async (obj) => {
    const impact = resolveImpact(flags & (DomainVcpus.LIVE | DomainVcpus.CONFIG), { active: obj.live !== undefined, persistent: obj.config !== undefined });
    let next = obj;
    if (flags & DomainVcpus.MAXIMUM) {
      if (impact.live) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, "maximum vcpu count of a live domain can't be modified");
      next = withConfig(next, withVcpus(configDef(obj)!, { max: count }));
    } else {
      const tooMany = (def: DomainDef): void => {
        if (count > def.vcpus) throw virtError(ErrorCode.INVALID_ARG, `requested cpu amount exceeds maximum (${count} > ${def.vcpus})`);
      };
      const config = impact.config ? configDef(obj)! : undefined;
      if (config) tooMany(config);
      if (impact.live) {
        const live = obj.live!;
        tooMany(live.def);
        const apply = core.backend.setVcpus;
        if (!apply) throw noSupport(fn);
        const runtime = await apply.call(core.backend, liveDomain(obj), count);
        next = withLive(next, live, withVcpus(live.def, { current: count }), runtime);
      }
      if (config) next = withConfig(next, withVcpus(config, { current: count }));
    }
    core.commit(obj.name, next, []);
  });
}

/**
 * virDomainReboot: the backend resets the guest; then the domain's `<on_reboot>` action
 * applies as in QEMU (`destroy`: the domain stops as after a shutdown; otherwise it runs on,
 * booted again). libvirt's QEMU driver sends no lifecycle event for a restart.
 */
export function reboot(core: EngineCore, dom: DomainRef, flags: number): Promise<void> {
  const fn = 'virDomainReboot';
  checkFlags(flags, 0x1f, fn);
  const apply = core.backend.reboot;
  return core.locked(dom, async (obj) => {
    const live = requireActive(obj);
    if (!apply) throw noSupport(fn);
    const runtime = await apply.call(core.backend, liveDomain(obj), flags);
    if (live.def.onReboot === 'destroy') {
      const stopped = await core.backend.stop(liveDomain(obj), 'destroy');
      if (stopped === 'stopped') {
        const { next, events } = planStopped(obj, StateReason.SHUTOFF_SHUTDOWN, LifecycleDetail.STOPPED_SHUTDOWN);
        core.commit(obj.name, next, events);
        return;
      }
    }
    const reason = live.state === DomainState.RUNNING ? StateReason.RUNNING_BOOTED : live.reason;
    core.commit(obj.name, { ...obj, live: { ...live, reason, runtime: runtime ?? live.runtime } }, []);
  });
}
