/**
 * define / undefine / start / stop / pause, planned as new domain values and the events
 * their commit emits. Pure: the engine runs the hypervisor step and commits.
 */
import { checkFlags, type DomainDef } from '../conf/index.js';
import { ErrorCode, virtError } from '../errors.js';
import type { DomainEvent } from '../shared/events.js';
import { DomainState, LifecycleDetail, LifecycleEvent, StateReason } from '../shared/flags.js';
import { configDef, deviceEvent, type DomainObj, type LiveState, ownedString, refOf, storeDef } from './domain-obj.js';
import { type Counters, type HostNameTaken, startLive } from './naming.js';
import type { DomainTable } from './table.js';

const START_PAUSED = 1;

export function lifecycleEvent(obj: DomainObj, event: number, detail: number): DomainEvent {
  return { type: 'lifecycle', domain: refOf(obj), event, detail };
}

/** Name and UUID must each be unused, or name the same domain (libvirt's virDomainObjListAdd checks). */
export function checkIdentity(table: DomainTable, def: DomainDef): DomainObj | undefined {
  const byName = table.findName(def.name);
  const byUuid = table.findUuid(def.uuid);
  if (byName && byName.uuid !== def.uuid) {
    throw virtError(ErrorCode.OPERATION_FAILED, `domain '${def.name}' already exists with uuid ${byName.uuid}`);
  }
  if (byUuid && byUuid.name !== def.name) {
    throw virtError(ErrorCode.OPERATION_FAILED, `domain '${byUuid.name}' is already defined with uuid ${def.uuid}`);
  }
  return byName;
}

export interface Planned {
  /** The domain after the change; undefined when it leaves the table. */
  next: DomainObj | undefined;
  events: DomainEvent[];
}

/**
 * virDomainDefineXML: adds or replaces a persistent definition. `current` is the domain of that name, if any;
 * `utf8`, when given, is def.toUtf8() already made.
 */
export function planDefine(current: DomainObj | undefined, def: DomainDef, utf8?: Buffer): Planned {
  const config = utf8 ?? storeDef(def);
  const next: DomainObj = current ? { ...current, config } : { name: ownedString(def.name), uuid: ownedString(def.uuid), config };
  const detail = current ? LifecycleDetail.DEFINED_UPDATED : LifecycleDetail.DEFINED_ADDED;
  return { next, events: [lifecycleEvent(next, LifecycleEvent.DEFINED, detail)] };
}

/** The live state of a domain about to boot (names and id allocated from `counters`). */
export function planBoot(def: DomainDef, counters: Counters, flags: number, taken?: HostNameTaken): LiveState {
  const paused = (flags & START_PAUSED) !== 0;
  return startLive(
    def,
    counters,
    paused ? DomainState.PAUSED : DomainState.RUNNING,
    paused ? StateReason.PAUSED_USER : StateReason.RUNNING_BOOTED,
    taken,
  );
}

/** The events of a completed boot. */
export function bootEvents(obj: DomainObj, flags: number): DomainEvent[] {
  const events = [lifecycleEvent(obj, LifecycleEvent.STARTED, LifecycleDetail.STARTED_BOOTED)];
  if (flags & START_PAUSED) events.push(lifecycleEvent(obj, LifecycleEvent.SUSPENDED, LifecycleDetail.SUSPENDED_PAUSED));
  return events;
}

/** virDomainCreateXML checks: an inactive persistent domain of that name may be started from this XML. */
export function checkCreate(table: DomainTable, def: DomainDef, flags: number): DomainObj | undefined {
  checkFlags(flags, 1 | 2 | 16, 'virDomainCreateXML');
  const byName = table.findName(def.name);
  if (byName?.live) throw virtError(ErrorCode.OPERATION_INVALID, `domain '${def.name}' is already active`);
  return checkIdentity(table, def);
}

/** virDomainCreateWithFlags checks; returns the definition to boot. */
export function checkStart(obj: DomainObj, flags: number): DomainDef {
  checkFlags(flags, 1 | 2 | 4 | 8 | 16, 'virDomainCreateWithFlags');
  if (obj.live) throw virtError(ErrorCode.OPERATION_INVALID, 'domain is already running');
  return configDef(obj)!;
}

export function requireActive(obj: DomainObj): LiveState {
  if (!obj.live) throw virtError(ErrorCode.OPERATION_INVALID, 'domain is not running');
  return obj.live;
}

/** A running domain stopped for `reason`; a transient one leaves the table. */
export function planStopped(obj: DomainObj, reason: number, detail: number, event: number = LifecycleEvent.STOPPED): Planned {
  const stopped: DomainObj = { name: obj.name, uuid: obj.uuid, config: obj.config, shutoffReason: reason };
  // An isolated device was promised to leave at the latest with the guest: its request ends here.
  const events: DomainEvent[] = (obj.live?.pending ?? [])
    .filter((p) => p.isolated)
    .map((p) => deviceEvent('device-removed', obj, p.alias, p.requestId));
  events.push(lifecycleEvent(stopped, event, detail));
  return { next: obj.config === undefined ? undefined : stopped, events };
}

export function checkSuspend(obj: DomainObj): LiveState {
  const live = requireActive(obj);
  if (live.state === DomainState.PAUSED) throw virtError(ErrorCode.OPERATION_INVALID, `domain '${obj.name}' is already paused`);
  return live;
}

export function checkResume(obj: DomainObj): LiveState {
  const live = requireActive(obj);
  if (live.state !== DomainState.PAUSED) throw virtError(ErrorCode.OPERATION_INVALID, `domain '${obj.name}' is not paused`);
  return live;
}

/** virDomainUndefineFlags: a running domain becomes transient. */
export function planUndefine(obj: DomainObj, flags: number): Planned {
  checkFlags(flags, 0x7f, 'virDomainUndefineFlags');
  if (obj.config === undefined) throw virtError(ErrorCode.OPERATION_INVALID, 'cannot undefine transient domain');
  const next: DomainObj | undefined = obj.live ? { name: obj.name, uuid: obj.uuid, live: obj.live } : undefined;
  return { next, events: [lifecycleEvent(obj, LifecycleEvent.UNDEFINED, LifecycleDetail.UNDEFINED_REMOVED)] };
}
