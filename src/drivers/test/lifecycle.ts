/** define / undefine / start / stop / pause of test-driver domains, as transaction steps. */
import { LifecycleDetail, LifecycleEvent, DomainState, StateReason } from '../../shared/flags.js';
import { checkFlags, type DomainDef } from '../../conf/index.js';
import { ErrorCode, virtError } from '../../errors.js';
import type { Tx } from './backing.js';
import { configDef, refOf, storeXml, type DomainObj } from './domain-obj.js';
import { startLive } from './live.js';

const START_PAUSED = 1;

function lifecycle(tx: Tx, obj: DomainObj, event: number, detail: number): void {
  tx.emit({ type: 'lifecycle', domain: refOf(obj), event, detail });
}

/** Adds or replaces a persistent definition (virDomainDefineXML). */
export function define(tx: Tx, def: DomainDef): DomainObj {
  const name = def.name;
  const uuid = def.uuid;
  const byName = tx.table.findName(name);
  const byUuid = tx.table.findUuid(uuid);
  if (byName && byName.uuid !== uuid) {
    throw virtError(ErrorCode.OPERATION_FAILED, `domain '${name}' already exists with uuid ${byName.uuid}`);
  }
  if (byUuid && byUuid.name !== name) {
    throw virtError(ErrorCode.OPERATION_FAILED, `domain '${byUuid.name}' is already defined with uuid ${uuid}`);
  }
  const xml = storeXml(def.toXml());
  if (byName) {
    byName.config = xml;
    tx.touch(byName);
    lifecycle(tx, byName, LifecycleEvent.DEFINED, LifecycleDetail.DEFINED_UPDATED);
    return byName;
  }
  const obj: DomainObj = { name, uuid, config: xml };
  tx.table.add(obj);
  tx.touch(obj);
  lifecycle(tx, obj, LifecycleEvent.DEFINED, LifecycleDetail.DEFINED_ADDED);
  return obj;
}

function boot(tx: Tx, obj: DomainObj, def: DomainDef, flags: number): void {
  const paused = (flags & START_PAUSED) !== 0;
  obj.live = startLive(
    def,
    tx.counters,
    paused ? DomainState.PAUSED : DomainState.RUNNING,
    paused ? StateReason.PAUSED_USER : StateReason.RUNNING_BOOTED,
  );
  tx.touch(obj);
  lifecycle(tx, obj, LifecycleEvent.STARTED, LifecycleDetail.STARTED_BOOTED);
  if (paused) lifecycle(tx, obj, LifecycleEvent.SUSPENDED, LifecycleDetail.SUSPENDED_PAUSED);
}

/** virDomainCreateXML: a transient domain, or a defined inactive one started from this XML. */
export function createTransient(tx: Tx, def: DomainDef, flags: number): DomainObj {
  checkFlags(flags, 1 | 2 | 16, 'virDomainCreateXML');
  const byName = tx.table.findName(def.name);
  const byUuid = tx.table.findUuid(def.uuid);
  if (byName?.live) throw virtError(ErrorCode.OPERATION_INVALID, `domain '${def.name}' is already active`);
  if (byName && byName.uuid !== def.uuid) {
    throw virtError(ErrorCode.OPERATION_FAILED, `domain '${def.name}' already exists with uuid ${byName.uuid}`);
  }
  if (byUuid && byUuid.name !== def.name) {
    throw virtError(ErrorCode.OPERATION_FAILED, `domain '${byUuid.name}' is already defined with uuid ${def.uuid}`);
  }
  const obj = byName ?? { name: def.name, uuid: def.uuid };
  // Boot first: should it fail, no half-made domain is left in the table.
  boot(tx, obj, def, flags);
  if (!byName) tx.table.add(obj);
  return obj;
}

/** virDomainCreateWithFlags */
export function start(tx: Tx, obj: DomainObj, flags: number): void {
  checkFlags(flags, 1 | 2 | 4 | 8 | 16, 'virDomainCreateWithFlags');
  if (obj.live) throw virtError(ErrorCode.OPERATION_INVALID, 'domain is already running');
  boot(tx, obj, configDef(obj)!, flags);
}

function requireActive(obj: DomainObj): void {
  if (!obj.live) throw virtError(ErrorCode.OPERATION_INVALID, 'domain is not running');
}

/** Stops a running domain; a transient one disappears. */
function stop(tx: Tx, obj: DomainObj, reason: number, detail: number): void {
  obj.live = undefined;
  obj.shutoffReason = reason;
  tx.pending.delete(obj);
  tx.touch(obj);
  lifecycle(tx, obj, LifecycleEvent.STOPPED, detail);
  if (obj.config === undefined) tx.forget(obj);
}

/** virDomainDestroyFlags */
export function destroy(tx: Tx, obj: DomainObj, flags: number): void {
  checkFlags(flags, 1 | 2, 'virDomainDestroyFlags');
  requireActive(obj);
  stop(tx, obj, StateReason.SHUTOFF_DESTROYED, LifecycleDetail.STOPPED_DESTROYED);
}

/** virDomainShutdownFlags: the simulated guest powers off at once. */
export function shutdown(tx: Tx, obj: DomainObj, flags: number): void {
  checkFlags(flags, 1 | 2 | 4 | 8 | 16, 'virDomainShutdownFlags');
  requireActive(obj);
  stop(tx, obj, StateReason.SHUTOFF_SHUTDOWN, LifecycleDetail.STOPPED_SHUTDOWN);
}

/** virDomainSuspend */
export function suspend(tx: Tx, obj: DomainObj): void {
  requireActive(obj);
  if (obj.live!.state === DomainState.PAUSED) throw virtError(ErrorCode.OPERATION_INVALID, `domain '${obj.name}' is already paused`);
  obj.live = { ...obj.live!, state: DomainState.PAUSED, reason: StateReason.PAUSED_USER };
  tx.touch(obj);
  lifecycle(tx, obj, LifecycleEvent.SUSPENDED, LifecycleDetail.SUSPENDED_PAUSED);
}

/** virDomainResume */
export function resume(tx: Tx, obj: DomainObj): void {
  requireActive(obj);
  if (obj.live!.state !== DomainState.PAUSED) throw virtError(ErrorCode.OPERATION_INVALID, `domain '${obj.name}' is not paused`);
  obj.live = { ...obj.live!, state: DomainState.RUNNING, reason: StateReason.RUNNING_UNPAUSED };
  tx.touch(obj);
  lifecycle(tx, obj, LifecycleEvent.RESUMED, LifecycleDetail.RESUMED_UNPAUSED);
}

/** virDomainUndefineFlags: a running domain becomes transient. */
export function undefine(tx: Tx, obj: DomainObj, flags: number): void {
  checkFlags(flags, 0x7f, 'virDomainUndefineFlags');
  if (obj.config === undefined) throw virtError(ErrorCode.OPERATION_INVALID, 'cannot undefine transient domain');
  obj.config = undefined;
  lifecycle(tx, obj, LifecycleEvent.UNDEFINED, LifecycleDetail.UNDEFINED_REMOVED);
  if (obj.live) tx.touch(obj);
  else tx.forget(obj);
}
