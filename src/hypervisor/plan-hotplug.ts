/**
 * Planning attach / detach / update with libvirt's QEMU-driver semantics: flags resolved
 * once, the config part built on a copy, the live part built on a copy with every name and
 * address allocated. Pure: nothing is installed here; the engine runs the hypervisor step
 * and commits the plan (or drops it) afterwards.
 */
import { readPciAddress } from '../conf/address.js';
import { findDeviceByContract } from '../conf/match-contract.js';
import type { QemuHost } from '../conf/caps/types.js';
import { setAddress } from '../conf/devices/common.js';
import {
  AFFECT_CONFIG,
  AFFECT_LIVE,
  assignLiveNames,
  checkFlags,
  checkNoContradiction,
  type DomainDef,
  findByAlias,
  findDevice,
  findGraphicsForUpdate,
  type Flavour,
  type Impact,
  parseDeviceXml,
  placeDevice,
  readAlias,
  resolveImpact,
  updateDeviceElement,
  validateDevicesTogether,
} from '../conf/index.js';
import { ErrorCode, VirtError, virtError } from '../errors.js';
import { DeviceModify } from '../shared/flags.js';
import { serializeXml, type XmlElement } from '../xml/index.js';
import type { DeviceUpdate } from './backend.js';
import { configDef, type DomainObj, domainTypeOf, type LiveState, type PendingUnplug, storeDef } from './domain-obj.js';
import { type Counters, type HostNameTaken, namingFor } from './naming.js';
import { checkControllerUnused, checkNewController, checkNewDiskTarget, rulesFor } from './rules/index.js';

const DEVICE_FLAGS = AFFECT_LIVE | AFFECT_CONFIG;

function impactOf(obj: DomainObj, flags: number): Impact {
  return resolveImpact(flags & DEVICE_FLAGS, { active: obj.live !== undefined, persistent: obj.config !== undefined });
}

function defaultControllerIndex(dev: XmlElement, def: DomainDef): void {
  if (dev.name !== 'controller' || dev.hasAttr('index')) return;
  const used = def.controllers().filter((c) => c.type === dev.attr('type')).map((c) => c.index);
  dev.setAttr('index', Math.max(-1, ...used) + 1);
}

/** Reuses the config copy's PCI address for the live copy when that slot is free there (one identity in both). */
function shareAddress(liveDev: XmlElement, configDev: XmlElement | undefined, live: DomainDef): void {
  const a = configDev ? readPciAddress(configDev) : undefined;
  if (!a) return;
  const taken = live.deviceElements().some((d) => {
    const b = readPciAddress(d);
    return b !== undefined && b.bus === a.bus && b.slot === a.slot;
  });
  const busExists = a.bus === 0 || live.controllers().some((c) => c.type === 'pci' && c.index === a.bus);
  if (!taken && busExists) setAddress(liveDev, configDev!.child('address')!.clone());
}

export interface AttachPlan {
  /** New persistent XML. */
  config?: Buffer;
  /** New live state, the device placed and named in it. */
  live?: LiveState;
  /** The new device inside `live.def` (what the hypervisor must plug). */
  device?: XmlElement;
  alias?: string;
}

/** virDomainAttachDeviceFlags, planned. Allocates tap names from `counters`. */
export function planAttach(obj: DomainObj, xml: string, flags: number, counters: Counters, qemuHost?: QemuHost, taken?: HostNameTaken): AttachPlan {
  checkFlags(flags, DEVICE_FLAGS, 'virDomainAttachDeviceFlags');
  const impact = impactOf(obj, flags);
  const type = domainTypeOf(obj);
  const { flavour, hotplug } = rulesFor(type);
  const { el } = parseDeviceXml(xml, type, 'attach');

  // As libvirt: the config half is checked first, then the live half. Every key is set from the start
  // (src/shared/keep-shape.ts: a shape grown key by key is forgotten at a full GC).
  const plan: AttachPlan = { config: undefined, live: undefined, device: undefined, alias: undefined };
  let config: { def: DomainDef; dev: XmlElement } | undefined;
  if (impact.config) config = configAttach(obj, el, flavour, qemuHost);

  if (impact.live) {
    const live = obj.live!;
    const def = live.def.clone();
    const dev = el.clone();
    defaultControllerIndex(dev, def);
    hotplug.checkLiveAttach(dev, def);
    checkNewController(dev, def.deviceElements());
    shareAddress(dev, config?.dev, def);
    const before = new Set(def.deviceElements());
    def.addDevice(dev);
    try {
      placeDevice(def, dev, flavour, { allowNewPorts: false, qemuHost });
    } catch (err) {
      throw noHotplugSlot(err, def);
    }
    const added = def.deviceElements().filter((d) => !before.has(d));
    const naming = namingFor(counters, live.id, live.nicSeq, taken);
    assignLiveNames(def, flavour, naming, added);
    validateDevicesTogether(def);
    plan.alias = readAlias(dev);
    plan.device = dev;
    plan.live = { ...live, def, nicSeq: naming.nicSeq() };
    // One identity: the definition takes the live slot when it could not give its own to the live copy.
    if (config && !samePci(config.dev, dev)) {
      const again = tryConfigAttachAt(obj, el, dev, flavour, qemuHost);
      if (again) config = again;
    }
  }
  if (config) plan.config = storeDef(config.def);
  return plan;
}

/** The persistent definition with the device added and placed (a new root port may be added for it). */
function configAttach(obj: DomainObj, el: XmlElement, flavour: Flavour, qemuHost: QemuHost | undefined): { def: DomainDef; dev: XmlElement } {
  const def = configDef(obj)!;
  const dev = el.clone();
  defaultControllerIndex(dev, def);
  checkNewDiskTarget(dev, def.deviceElements(), ErrorCode.OPERATION_INVALID);
  checkNewController(dev, def.deviceElements());
  def.addDevice(dev);
  placeDevice(def, dev, flavour, { allowNewPorts: true, qemuHost });
  validateDevicesTogether(def);
  return { def, dev };
}

function samePci(a: XmlElement, b: XmlElement): boolean {
  const x = readPciAddress(a);
  const y = readPciAddress(b);
  if (!x || !y) return true;
  return x.domain === y.domain && x.bus === y.bus && x.slot === y.slot && x.function === y.function;
}

/** The config attach again with the live copy's PCI address, when the definition has that slot free. */
function tryConfigAttachAt(obj: DomainObj, el: XmlElement, liveDev: XmlElement, flavour: Flavour, qemuHost: QemuHost | undefined): { def: DomainDef; dev: XmlElement } | undefined {
  const withAddress = el.clone();
  setAddress(withAddress, liveDev.child('address')!.clone());
  try {
    const again = configAttach(obj, withAddress, flavour, qemuHost);
    return samePci(again.dev, liveDev) ? again : undefined;
  } catch {
    // Taken, or no such bus in the definition: the copies keep different slots, as libvirt's would.
    return undefined;
  }
}

/**
 * The contract's persistDevice, planned: the live device (by alias) added to the persistent
 * definition with its MAC and PCI address, or an error saying why it cannot keep them.
 */
export function planPersist(obj: DomainObj, alias: string, qemuHost?: QemuHost): Buffer {
  const live = obj.live;
  if (!live) throw virtError(ErrorCode.OPERATION_INVALID, 'domain is not running');
  if (obj.config === undefined) throw virtError(ErrorCode.OPERATION_INVALID, 'transient domains do not have any persistent config');
  const liveDev = findByAlias(live.def, alias);
  if (live.pending.some((p) => p.alias === alias)) throw virtError(ErrorCode.OPERATION_INVALID, `device '${alias}' is being unplugged`);
  const type = domainTypeOf(obj);
  const { flavour } = rulesFor(type);
  const { el } = parseDeviceXml(serializeXml(liveDev), type, 'attach');
  const current = configDef(obj)!;
  const mac = el.name === 'interface' ? el.child('mac')?.attr('address') : undefined;
  const target = el.name === 'disk' ? el.child('target')?.attr('dev') : undefined;
  const twin = current.elementsNamed(el.name).find(
    (d) => (mac !== undefined && d.child('mac')?.attr('address') === mac) || (target !== undefined && d.child('target')?.attr('dev') === target),
  );
  if (twin) {
    throw virtError(ErrorCode.OPERATION_INVALID, `device '${alias}' is already in the persistent definition (${mac !== undefined ? `MAC ${mac}` : `target ${target}`})`);
  }
  let config: { def: DomainDef; dev: XmlElement };
  try {
    config = configAttach(obj, el, flavour, qemuHost);
  } catch (err) {
    throw virtError(ErrorCode.OPERATION_FAILED, `cannot make device '${alias}' persistent with its MAC and address: ${(err as Error).message}`);
  }
  if (!samePci(config.dev, liveDev)) {
    throw virtError(ErrorCode.OPERATION_FAILED, `cannot make device '${alias}' persistent at its PCI address: the persistent definition has no such free slot`);
  }
  return storeDef(config.def);
}

/** Running out of hot-pluggable slots says how to reserve more (the message starts with libvirt's). */
function noHotplugSlot(err: unknown, live: DomainDef): unknown {
  const e = err as VirtError;
  if (!(e instanceof VirtError) || !/No more available PCI slots/.test(e.message)) return err;
  const q35 = live.controllers().some((c) => c.type === 'pci' && c.model === 'pcie-root');
  const how = q35
    ? "a running q35 domain can only use the free pcie-root-ports it was started with: reserve some with 'virtkit define FILE --hotplug-slots N' (typed API: defineXML(xml, { hotplugSlots: N })) and restart it"
    : "every slot of the domain's PCI buses is taken: add a pci-bridge controller to the definition and restart it";
  return Object.assign(new VirtError(e.code, `${e.message}: ${how}`, { domain: e.domain, cause: e }), { reason: 'no-free-hotplug-slot' });
}

export interface LiveUnplug {
  alias: string;
  /** The live device as it is now. */
  device: XmlElement;
  alreadyPending: boolean;
}

export interface DetachPlan {
  /** New persistent XML without the device; committed once the live half did not fail. */
  config?: Buffer;
  live?: LiveUnplug;
  /** `ifPresent`: neither definition the call touches has the device. */
  absent?: boolean;
}

/** How a detach is planned: libvirt's way, or the contract's (typed API with options). */
export interface DetachPlanOptions {
  /** The contract: a half whose device is already gone is skipped when the live device's unplug is pending. */
  contract?: boolean;
  /** A device missing from a definition skips that half; missing from both is `absent`. */
  ifPresent?: boolean;
}

function isMissing(err: unknown): boolean {
  return (err as { code?: number }).code === ErrorCode.DEVICE_MISSING;
}

/**
 * Both halves matched before either changes. With the contract, a missing device skips its half
 * (`ifPresent`, or the config half of a device whose live unplug is already pending).
 */
function planHalves(obj: DomainObj, flags: number, fn: string, find: (def: DomainDef, config: boolean) => XmlElement, opts: DetachPlanOptions): DetachPlan {
  checkFlags(flags, DEVICE_FLAGS, fn);
  const impact = impactOf(obj, flags);
  const plan: DetachPlan = { config: undefined, live: undefined };
  let liveMissing: unknown;
  let liveError: unknown;
  if (impact.live) {
    try {
      plan.live = liveUnplug(obj, find(obj.live!.def, false));
    } catch (err) {
      if (opts.ifPresent && isMissing(err)) liveMissing = err;
      else liveError = err;
    }
  }
  // The config half is matched first, as libvirt does: its error wins.
  if (impact.config) {
    const def = configDef(obj)!;
    try {
      def.removeDevice(find(def, true));
      plan.config = storeDef(def);
    } catch (err) {
      const skip = isMissing(err) && (opts.ifPresent || (opts.contract && plan.live?.alreadyPending));
      if (!skip) throw err;
      if (!plan.live && liveError === undefined) throw liveMissing ?? err;
    }
  }
  if (liveError !== undefined) throw liveError;
  if (liveMissing !== undefined && plan.config === undefined) throw liveMissing;
  return plan;
}

function planOrAbsent(opts: DetachPlanOptions, planIt: () => DetachPlan): DetachPlan {
  try {
    return planIt();
  } catch (err) {
    if (opts.ifPresent && isMissing(err)) return { absent: true };
    throw err;
  }
}

function liveUnplug(obj: DomainObj, dev: XmlElement): LiveUnplug {
  const live = obj.live!;
  rulesFor(live.def.type).hotplug.checkLiveDetach(dev);
  checkControllerUnused(dev, live.def.deviceElements());
  const alias = readAlias(dev)!;
  return { alias, device: dev, alreadyPending: live.pending.some((p) => p.alias === alias) };
}

/** virDomainDetachDeviceFlags, planned: both definitions matched before either changes. */
export function planDetach(obj: DomainObj, xml: string, flags: number, opts: DetachPlanOptions = {}): DetachPlan {
  return planOrAbsent(opts, () => {
    checkFlags(flags, DEVICE_FLAGS, 'virDomainDetachDeviceFlags');
    const { el, macGenerated } = parseDeviceXml(xml, domainTypeOf(obj), 'detach');
    return planHalves(obj, flags, 'virDomainDetachDeviceFlags', (def, config) => {
      // The contract's matching (alias, address, MAC, target dev; ambiguity lists the candidates); libvirt's otherwise.
      const found = opts.contract
        ? findDeviceByContract(def, el, { macGenerated, config })
        : findDevice(def, el, config ? { macGenerated, config: true } : { macGenerated });
      checkNoContradiction(found, el);
      return found;
    }, opts);
  });
}

/** virDomainDetachDeviceAlias, planned. */
export function planDetachAlias(obj: DomainObj, alias: string, flags: number, opts: DetachPlanOptions = {}): DetachPlan {
  return planOrAbsent(opts, () => planHalves(obj, flags, 'virDomainDetachDeviceAlias', (def) => findByAlias(def, alias), opts));
}

export interface UpdatePlan {
  config?: Buffer;
  live?: LiveState;
  change?: DeviceUpdate;
}

/** virDomainUpdateDeviceFlags, planned. */
export function planUpdate(obj: DomainObj, xml: string, flags: number): UpdatePlan {
  checkFlags(flags, DEVICE_FLAGS | DeviceModify.FORCE, 'virDomainUpdateDeviceFlags');
  const impact = impactOf(obj, flags);
  const force = (flags & DeviceModify.FORCE) !== 0;
  const { el, macGenerated } = parseDeviceXml(xml, domainTypeOf(obj), 'update');
  const plan: UpdatePlan = { config: undefined, live: undefined, change: undefined };
  if (impact.config) {
    const def = configDef(obj)!;
    const found = el.name === 'graphics' ? findGraphicsForUpdate(def.deviceElements(), el, false) : findDevice(def, el, { macGenerated, config: true });
    updateDeviceElement(found, el, { live: false, force });
    validateDevicesTogether(def);
    plan.config = storeDef(def);
  }
  if (impact.live) {
    const def = obj.live!.def.clone();
    const found = el.name === 'graphics' ? findGraphicsForUpdate(def.deviceElements(), el, true) : findDevice(def, el, { macGenerated });
    const before = found.clone();
    updateDeviceElement(found, el, { live: true, force });
    plan.live = { ...obj.live!, def };
    plan.change = { alias: readAlias(found), before, after: found };
  }
  return plan;
}

/** The live state without a device the guest let go (and without its pending entry). */
export function withoutDevice(live: LiveState, alias: string): { live: LiveState; device?: XmlElement } {
  const def = live.def.clone();
  const device = def.deviceElements().find((d) => readAlias(d) === alias);
  if (device) def.removeDevice(device);
  return { live: { ...live, def: device ? def : live.def, pending: live.pending.filter((p) => p.alias !== alias) }, device };
}

/** The live state with an unplug of `alias` pending since `now` (a request already pending keeps its time and id). */
export function withPending(live: LiveState, alias: string, now: number, requestId?: string): LiveState {
  const old = live.pending.find((p) => p.alias === alias);
  const entry: PendingUnplug = old
    ? { ...old, requestId: old.requestId ?? requestId }
    : requestId === undefined
      ? { alias, requestedAt: now }
      : { alias, requestedAt: now, requestId };
  if (entry.requestId === undefined) delete entry.requestId;
  delete entry.retryAt;
  delete entry.tries;
  return replacePending(live, entry);
}

/** The live state with this pending entry in place of the one of its alias (or added). */
export function replacePending(live: LiveState, entry: PendingUnplug): LiveState {
  const i = live.pending.findIndex((p) => p.alias === entry.alias);
  const pending = [...live.pending];
  if (i < 0) pending.push(entry);
  else pending[i] = entry;
  return { ...live, pending };
}

/** The live state with the pending unplug of `alias` forgotten (the guest refused it). */
export function withoutPending(live: LiveState, alias: string): LiveState {
  return { ...live, pending: live.pending.filter((p) => p.alias !== alias) };
}
