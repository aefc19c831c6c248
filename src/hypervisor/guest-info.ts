/**
 * What the engine answers about a guest and its host beyond the definition: interface
 * addresses, disk sizes, the console, and the host's CPUs, capabilities, networks and
 * storage. The engine finds the domain and the device (with libvirt's errors); the answer
 * comes from the backend's optional methods, VIR_ERR_NO_SUPPORT when it has none.
 */
import { checkFlags } from '../conf/index.js';
import type { BlockInfo, ConsoleStream, DomainInterface } from '../shared/host-types.js';
import { ErrorCode, virtError } from '../errors.js';
import type { DomainRef } from '../shared/events.js';
import { STORAGE_POOL_TYPES } from '../shared/flags.js';
import type { XmlElement } from '../xml/index.js';
import { configDef, type DomainObj, liveDomain } from './domain-obj.js';
import type { EngineCore } from './engine-core.js';
import { requireActive } from './plan-lifecycle.js';

function noSupport(api: string): Error {
  return virtError(ErrorCode.NO_SUPPORT, api);
}

/** A domain as stored now, reconciled first when the backend has news (no lock held afterwards). */
async function current(core: EngineCore, dom: DomainRef): Promise<DomainObj> {
  core.check();
  const obj = core.resolve(dom);
  return core.stale(obj) ? core.fresh(obj) : obj;
}

/** virDomainInterfaceAddresses of a running domain. */
export async function interfaceAddresses(core: EngineCore, dom: DomainRef, source: number, flags: number): Promise<DomainInterface[]> {
  const fn = 'virDomainInterfaceAddresses';
  checkFlags(flags, 0, fn);
  const obj = await current(core, dom);
  requireActive(obj);
  const ask = core.backend.interfaceAddresses;
  if (!ask) throw noSupport(fn);
  return ask.call(core.backend, liveDomain(obj), source);
}

/** Every path-like attribute a disk `<source>` may name (a disk is found by target or by one of these). */
function sourcePath(disk: XmlElement): string | undefined {
  const s = disk.child('source');
  return s ? (s.attr('file') ?? s.attr('dev') ?? s.attr('dir') ?? s.attr('name') ?? s.attr('volume')) : undefined;
}

/** virDomainGetBlockInfo: the disk by target (`vda`) or source path, in the live definition when running. */
export async function getBlockInfo(core: EngineCore, dom: DomainRef, disk: string, flags: number): Promise<BlockInfo> {
  const fn = 'virDomainGetBlockInfo';
  checkFlags(flags, 0, fn);
  const obj = await current(core, dom);
  const def = obj.live?.def ?? configDef(obj)!;
  const el = def.elementsNamed('disk').find((d) => d.child('target')?.attr('dev') === disk || sourcePath(d) === disk);
  if (!el) throw virtError(ErrorCode.INVALID_ARG, `invalid path ${disk} not assigned to domain`);
  if (sourcePath(el) === undefined) {
    throw virtError(ErrorCode.INVALID_ARG, `disk '${el.child('target')?.attr('dev') ?? disk}' does not currently have a source assigned`);
  }
  const ask = core.backend.blockInfo;
  if (!ask) throw noSupport(fn);
  return ask.call(core.backend, obj.live ? liveDomain(obj) : undefined, el);
}

/**
 * virDomainOpenConsole: without a name the first `<console>` (else the first `<serial>`; none:
 * `undefined`, the backend's call), with one the console, serial or channel of that alias.
 */
export async function openConsole(core: EngineCore, dom: DomainRef, devname: string | undefined, flags: number): Promise<ConsoleStream> {
  const fn = 'virDomainOpenConsole';
  // VIR_DOMAIN_CONSOLE_FORCE (1) and SAFE (2): one client per console is all virtkit's streams offer anyway.
  checkFlags(flags, 1 | 2, fn);
  const obj = await current(core, dom);
  const live = requireActive(obj);
  const chars = [...live.def.elementsNamed('console'), ...live.def.elementsNamed('serial'), ...live.def.elementsNamed('channel')];
  const device =
    devname === undefined
      ? (live.def.elementsNamed('console')[0] ?? live.def.elementsNamed('serial')[0])
      : chars.find((c) => c.child('alias')?.attr('name') === devname);
  // A named device must exist; without a name the backend decides what a domain without a console offers.
  if (!device && devname !== undefined) throw virtError(ErrorCode.INTERNAL_ERROR, `cannot find character device ${devname}`);
  const open = core.backend.openConsole;
  if (!open) throw noSupport(fn);
  return open.call(core.backend, liveDomain(obj), device);
}

/** A host question answered by the backend, VIR_ERR_NO_SUPPORT naming `api` when it cannot. */
export async function askHost<T>(core: EngineCore, method: (() => Promise<T>) | undefined, api: string): Promise<T> {
  core.check();
  if (!method) throw noSupport(api);
  return method.call(core.backend);
}

/** libvirt's list filters: a pair of opposite bits both set, or neither, keeps everything. */
function pick(flags: number, on: number, off: number, value: boolean): boolean {
  const a = (flags & on) !== 0;
  const b = (flags & off) !== 0;
  return a === b || (a ? value : !value);
}

/** virConnectListAllNetworks / virConnectListAllStoragePools filtering on active, persistent, autostart. */
export function filterByFlags<T extends { persistent: boolean; autostart: boolean }>(items: T[], flags: number, active: (item: T) => boolean): T[] {
  // Both enums use INACTIVE 1, ACTIVE 2, PERSISTENT 4, TRANSIENT 8, AUTOSTART 16, NO_AUTOSTART 32.
  return items.filter(
    (i) => pick(flags, 2, 1, active(i)) && pick(flags, 4, 8, i.persistent) && pick(flags, 16, 32, i.autostart),
  );
}

/** Keeps the pools of the types whose bits are set; no type bit keeps every pool. */
export function filterPoolTypes<T extends { type: string }>(pools: T[], flags: number): T[] {
  const wanted = STORAGE_POOL_TYPES.filter((_t, i) => (flags & (64 << i)) !== 0);
  return wanted.length === 0 ? pools : pools.filter((p) => (wanted as readonly string[]).includes(p.type));
}
