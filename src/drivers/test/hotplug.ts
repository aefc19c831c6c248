/**
 * attach / detach / update / detach-by-alias on the test driver, with the
 * QEMU driver's semantics: flags resolved once, the config part applied to a
 * copy, the live part to a copy, both swapped in only when everything succeeded.
 */
import type { QemuHost } from '../../conf/caps/types.js';
import {
  AFFECT_CONFIG,
  AFFECT_LIVE,
  assignLiveNames,
  checkFlags,
  checkNoContradiction,
  findByAlias,
  findDevice,
  flavourOf,
  parseDeviceXml,
  placeDevice,
  readAlias,
  resolveImpact,
  updateDeviceElement,
  validateDevicesTogether,
  type DomainDef,
  type Impact,
} from '../../conf/index.js';
import { readPciAddress } from '../../conf/address.js';
import { setAddress } from '../../conf/devices/common.js';
import { ErrorCode, isVirtError, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';
import type { AttachResult, DetachResult } from '../driver.js';
import type { Tx } from './backing.js';
import { configDef, refOf, storeXml, type DomainObj, type LiveState } from './domain-obj.js';
import {
  checkControllerUnused,
  checkLiveAttach,
  checkLiveDetach,
  checkNewController,
  checkNewDiskTarget,
} from './hotplug-rules.js';
import { namingFor } from './live.js';
import { unplugBehaviour } from './unplug-behaviour.js';

const DEVICE_FLAGS = AFFECT_LIVE | AFFECT_CONFIG;
const FORCE = 4;

function impactOf(obj: DomainObj, flags: number): Impact {
  return resolveImpact(flags & DEVICE_FLAGS, { active: obj.live !== undefined, persistent: obj.config !== undefined });
}

function domainType(obj: DomainObj): string {
  return obj.live?.def.type ?? configDef(obj)?.type ?? 'test';
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

/** virDomainAttachDeviceFlags */
export function attachDevice(tx: Tx, obj: DomainObj, xml: string, flags: number, qemuHost?: QemuHost): AttachResult {
  checkFlags(flags, DEVICE_FLAGS, 'virDomainAttachDeviceFlags');
  const impact = impactOf(obj, flags);
  const type = domainType(obj);
  const flavour = flavourOf(type);
  const { el } = parseDeviceXml(xml, type, 'attach');
  if (impact.live) checkLiveAttach(el);

  let newConfig: DomainDef | undefined;
  let configDev: XmlElement | undefined;
  if (impact.config) {
    newConfig = configDef(obj)!;
    configDev = el.clone();
    defaultControllerIndex(configDev, newConfig);
    checkNewDiskTarget(configDev, newConfig.deviceElements(), ErrorCode.OPERATION_INVALID);
    checkNewController(configDev, newConfig.deviceElements());
    newConfig.addDevice(configDev);
    placeDevice(newConfig, configDev, flavour, { allowNewPorts: true, qemuHost });
    validateDevicesTogether(newConfig);
  }

  let newLive: LiveState | undefined;
  let alias: string | undefined;
  if (impact.live) {
    const live = obj.live!;
    const def = live.def.clone();
    const dev = el.clone();
    defaultControllerIndex(dev, def);
    checkNewDiskTarget(dev, def.deviceElements(), ErrorCode.OPERATION_FAILED);
    checkNewController(dev, def.deviceElements());
    shareAddress(dev, configDev, def);
    const before = new Set(def.deviceElements());
    def.addDevice(dev);
    placeDevice(def, dev, flavour, { allowNewPorts: false, qemuHost });
    const added = def.deviceElements().filter((d) => !before.has(d));
    const naming = namingFor(tx.counters, live.id, live.nicSeq);
    assignLiveNames(def, flavour, naming, added);
    validateDevicesTogether(def);
    alias = readAlias(dev);
    newLive = { ...live, def, nicSeq: naming.nicSeq() };
  }

  if (newConfig) obj.config = storeXml(newConfig.toXml());
  if (newLive) {
    obj.live = newLive;
    if (alias !== undefined) tx.emit({ type: 'device-added', domain: refOf(obj), alias });
  }
  tx.touch(obj);
  return { alias };
}

/** What the live half of a detach did. */
export type LiveDetach = { outcome: 'removed'; alias: string } | { outcome: 'pending'; alias: string; deadline: number };

/** Removes a device from the live definition now, emitting device-removed. */
export function removeLiveDevice(tx: Tx, obj: DomainObj, alias: string): void {
  const live = obj.live;
  if (!live) return;
  const def = live.def.clone();
  const dev = def.deviceElements().find((d) => readAlias(d) === alias);
  if (!dev) return;
  def.removeDevice(dev);
  obj.live = { ...live, def, pending: live.pending.filter((p) => p.alias !== alias) };
  tx.touch(obj);
  tx.emit({ type: 'device-removed', domain: refOf(obj), alias });
}

/** Sends the unplug request for a matched live device, honouring the domain's simulated guest. */
function unplugLive(tx: Tx, obj: DomainObj, dev: XmlElement, now: number): LiveDetach {
  checkLiveDetach(dev);
  const live = obj.live!;
  checkControllerUnused(dev, live.def.deviceElements());
  const alias = readAlias(dev)!;
  if (live.pending.some((p) => p.alias === alias)) {
    throw virtError(ErrorCode.OPERATION_FAILED, `unplug of device '${alias}' is already in progress`);
  }
  const behaviour = unplugBehaviour(live.def);
  if (behaviour.ack === 'immediate') {
    removeLiveDevice(tx, obj, alias);
    return { outcome: 'removed', alias };
  }
  const deadline = behaviour.ack === 'never' ? Number.POSITIVE_INFINITY : now + behaviour.delayMs;
  const outcome = behaviour.ack === 'reject' ? 'reject' : 'remove';
  obj.live = { ...live, pending: [...live.pending, { alias, deadline, outcome }] };
  tx.pending.add(obj);
  tx.touch(obj);
  return { outcome: 'pending', alias, deadline };
}

/** Result of the first (locked) half of a detach; a pending live part is awaited by the caller. */
export interface DetachStart {
  live?: LiveDetach;
  /** Config removal to apply once the live part did not fail (deferred while the guest may still refuse). */
  commitConfig?: (tx: Tx) => void;
}

function configDetach(obj: DomainObj, el: XmlElement, macGenerated: boolean): DomainDef {
  const def = configDef(obj)!;
  const found = findDevice(def, el, { macGenerated, config: true });
  checkNoContradiction(found, el);
  def.removeDevice(found);
  return def;
}

/** First half of virDomainDetachDeviceFlags: validate everything, apply what completes now. */
export function startDetach(tx: Tx, obj: DomainObj, xml: string, flags: number, now: number): DetachStart {
  checkFlags(flags, DEVICE_FLAGS, 'virDomainDetachDeviceFlags');
  const impact = impactOf(obj, flags);
  const { el, macGenerated } = parseDeviceXml(xml, domainType(obj), 'detach');
  // Match in both definitions before changing either, so a failure changes nothing.
  const newConfig = impact.config ? configDetach(obj, el, macGenerated) : undefined;
  let liveDev: XmlElement | undefined;
  if (impact.live) {
    liveDev = findDevice(obj.live!.def, el, { macGenerated });
    checkNoContradiction(liveDev, el);
  }
  const live = liveDev ? unplugLive(tx, obj, liveDev, now) : undefined;
  const uuid = obj.uuid;
  const commitConfig = newConfig
    ? (t: Tx): void => {
        // Resolve afresh: with a state folder the table may have been reloaded while we waited,
        // and another call may have changed (or already detached from) the config meanwhile.
        const current = t.table.findUuid(uuid);
        if (current?.config === undefined) return;
        let def: DomainDef;
        try {
          def = configDetach(current, el, macGenerated);
        } catch (err) {
          if (isVirtError(err, ErrorCode.DEVICE_MISSING)) return;
          throw err;
        }
        current.config = storeXml(def.toXml());
        t.touch(current);
      }
    : undefined;
  if (commitConfig && live?.outcome !== 'pending') {
    commitConfig(tx);
    return { live };
  }
  return { live, commitConfig };
}

/** First half of virDomainDetachDeviceAlias. */
export function startDetachAlias(tx: Tx, obj: DomainObj, alias: string, flags: number, now: number): DetachStart {
  checkFlags(flags, DEVICE_FLAGS, 'virDomainDetachDeviceAlias');
  const impact = impactOf(obj, flags);
  let newConfig: DomainDef | undefined;
  if (impact.config) {
    newConfig = configDef(obj)!;
    newConfig.removeDevice(findByAlias(newConfig, alias));
  }
  const liveDev = impact.live ? findByAlias(obj.live!.def, alias) : undefined;
  const live = liveDev ? unplugLive(tx, obj, liveDev, now) : undefined;
  if (newConfig) {
    obj.config = storeXml(newConfig.toXml());
    tx.touch(obj);
  }
  return { live };
}

/** virDomainUpdateDeviceFlags */
export function updateDevice(tx: Tx, obj: DomainObj, xml: string, flags: number): void {
  checkFlags(flags, DEVICE_FLAGS | FORCE, 'virDomainUpdateDeviceFlags');
  const impact = impactOf(obj, flags);
  const force = (flags & FORCE) !== 0;
  const { el, macGenerated } = parseDeviceXml(xml, domainType(obj), 'update');
  let newConfig: DomainDef | undefined;
  if (impact.config) {
    newConfig = configDef(obj)!;
    const found = findDevice(newConfig, el, { macGenerated, config: true });
    updateDeviceElement(found, el, { live: false, force });
    validateDevicesTogether(newConfig);
  }
  let newDef: DomainDef | undefined;
  if (impact.live) {
    newDef = obj.live!.def.clone();
    const found = findDevice(newDef, el, { macGenerated });
    updateDeviceElement(found, el, { live: true, force });
  }
  if (newConfig) obj.config = storeXml(newConfig.toXml());
  if (newDef) obj.live = { ...obj.live!, def: newDef };
  tx.touch(obj);
}

/** Turns the live half into the public result. */
export function detachResult(live: LiveDetach | undefined): DetachResult {
  return live ? { outcome: live.outcome, alias: live.alias } : { outcome: 'removed' };
}
