/**
 * Declarative devices (issue 11), planned: a desired full domain XML against the current definitions.
 *
 * The desired XML goes through define's own normalization, so defaults and implicit devices compare
 * alike; what its devices *stated* (before define filled anything in) decides identity and which
 * fields count. Each desired device is paired with at most one current device (its live and
 * persistent copies together) by the first identity it states: user alias (`ua-*`), MAC (interfaces),
 * target dev (disks), address, controller type and index, a runtime alias (live only); without any,
 * by content (kind, top-level attributes, model, source), the first free one. Then, per definition:
 *
 *   no current device       → attach (the other copy's XML when one definition has it: same MAC, slot)
 *   no desired device       → detach (controllers excepted: placement, see below)
 *   only updatable differ   → update (interface link state, bandwidth, filterref, coalesce; removable media)
 *   anything else differs   → replaced: detach, then attach
 *
 * The two definitions' calls merge into one LIVE|CONFIG call when their XML is the same. A device whose
 * live change the hypervisor cannot hot-plug (QEMU: an ide disk, video, most controllers) becomes a
 * `needs restart` entry instead, with every call for it dropped. Controllers the desired XML does not
 * name are left alone: define adds them for the devices it places, and the engine adds what a live
 * attach needs; apply never removes them.
 */
import { addressKey } from '../conf/address.js';
import type { QemuHost } from '../conf/caps/types.js';
import { readAlias, USER_ALIAS_PREFIX } from '../conf/devices/common.js';
import { diskSource } from '../conf/devices/disk.js';
import { interfaceSource } from '../conf/devices/interface.js';
import { DISK_ORDER, INTERFACE_ORDER } from '../conf/devices/kinds.js';
import { DomainDef, flavourOf, normalizeDomainDef, parseMac, parseUuid, stripRuntimeNames } from '../conf/index.js';
import { ErrorCode, virtError } from '../errors.js';
import type { DevicePlan, PlannedOperation, RestartEntry } from '../shared/declarative.js';
import { DeviceModify } from '../shared/flags.js';
import { cloneNode, parseXml, serializeXml, type XmlElement, xmlDiff } from '../xml/index.js';
import { domainRestartEntries } from './plan-domain-diff.js';
import { rulesFor } from './rules/index.js';

export interface PlanInput {
  /** The domain's name and UUID (the desired XML must describe this domain). */
  name: string;
  uuid: string;
  /** The persistent definition (undefined: transient). */
  config?: DomainDef;
  /** The running definition (undefined: not running). */
  live?: DomainDef;
  qemuHost?: QemuHost;
}

type Half = 'live' | 'config';
const FLAG: Record<Half, number> = { live: DeviceModify.LIVE, config: DeviceModify.CONFIG };

/** One current device: its running and persistent copies. */
interface Current {
  live?: XmlElement;
  config?: XmlElement;
  taken: boolean;
}

/** One desired device: define's view of it, and what the XML stated. */
interface Desired {
  el: XmlElement;
  /** As written, runtime names dropped (undefined: added by define). */
  stated?: XmlElement;
  /** A runtime alias as written (a dumped live XML), for matching the live copy only. */
  runtimeAlias?: string;
}

/** Kinds a domain has at most one of: paired by kind alone. */
const SINGLETONS = new Set(['memballoon', 'iommu', 'vsock']);
/** Interface fields a running domain may change (libvirt's qemuDomainChangeNet). */
const IFACE_TUNABLE = ['link', 'bandwidth', 'filterref', 'coalesce'];

function isRemovable(disk: XmlElement): boolean {
  const d = disk.attr('device') ?? 'disk';
  return d === 'cdrom' || d === 'floppy';
}

/** A key pairing the live and persistent copies of one device. */
function copyKey(e: XmlElement): string {
  const alias = readAlias(e);
  if (alias?.startsWith(USER_ALIAS_PREFIX)) return `${e.name}|ua:${alias}`;
  if (e.name === 'interface') {
    const mac = e.child('mac')?.attr('address');
    if (mac !== undefined) return `interface|mac:${parseMac(mac)}`;
  }
  if (e.name === 'disk') return `disk|target:${e.child('target')?.attr('dev') ?? ''}`;
  if (e.name === 'controller') return `controller|${e.attr('type') ?? ''}:${Number(e.attr('index') ?? 0)}`;
  const addr = addressKey(e);
  if (addr !== undefined) return `${e.name}|addr:${addr}`;
  return `${e.name}|content:${contentKey(e)}`;
}

function contentKey(e: XmlElement): string {
  const attrs = [...e.attrs].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`);
  return `${attrs.join(',')};${e.child('model')?.attr('type') ?? ''};${sourceOf(e) ?? ''}`;
}

function sourceOf(e: XmlElement): string | undefined {
  if (e.name === 'interface') return interfaceSource(e);
  if (e.name === 'disk') return diskSource(e);
  return undefined;
}

function pairCopies(live: DomainDef | undefined, config: DomainDef | undefined): Current[] {
  const out: Current[] = [];
  const byKey = new Map<string, Current[]>();
  for (const c of config?.deviceElements() ?? []) {
    const cur: Current = { config: c, taken: false };
    out.push(cur);
    const k = copyKey(c);
    const list = byKey.get(k);
    if (list) list.push(cur);
    else byKey.set(k, [cur]);
  }
  for (const l of live?.deviceElements() ?? []) {
    const twin = byKey.get(copyKey(l))?.find((c) => c.live === undefined);
    if (twin) twin.live = l;
    else out.push({ live: l, taken: false });
  }
  return out;
}

/** The given device states these fields, and the definition's device has them the same. */
function sameContent(given: XmlElement, dev: XmlElement): boolean {
  if (given.name !== dev.name) return false;
  if (given.attrs.some(([k, v]) => dev.attr(k) !== v)) return false;
  const model = given.child('model')?.attr('type');
  if (model !== undefined && dev.child('model')?.attr('type') !== model) return false;
  const src = sourceOf(given);
  return src === undefined || src === sourceOf(dev);
}

interface Rule {
  name: string;
  value: string;
  key(e: XmlElement): string | undefined;
  liveOnly?: boolean;
}

/** The identities a desired device states, strongest first. */
function identities(d: Desired): Rule[] {
  const s = d.stated!;
  const rules: Rule[] = [];
  const ua = readAlias(s);
  if (ua !== undefined) rules.push({ name: 'alias', value: ua, key: readAlias });
  if (s.name === 'interface') {
    const mac = s.child('mac')?.attr('address');
    if (mac !== undefined) {
      rules.push({ name: 'MAC', value: parseMac(mac), key: (e) => {
        const m = e.child('mac')?.attr('address');
        return m === undefined ? undefined : parseMac(m);
      } });
    }
  }
  if (s.name === 'disk') {
    const t = s.child('target')?.attr('dev');
    if (t !== undefined) rules.push({ name: 'target dev', value: t, key: (e) => e.child('target')?.attr('dev') });
  }
  if (s.name === 'controller') {
    rules.push({ name: 'type and index', value: `${d.el.attr('type')}:${Number(d.el.attr('index') ?? 0)}`, key: (e) => `${e.attr('type')}:${Number(e.attr('index') ?? 0)}` });
  }
  const addr = addressKey(s);
  if (addr !== undefined) rules.push({ name: 'address', value: addr, key: addressKey });
  if (d.runtimeAlias !== undefined) rules.push({ name: 'alias', value: d.runtimeAlias, key: readAlias, liveOnly: true });
  return rules;
}

function describe(e: XmlElement): string {
  const parts: string[] = [];
  const alias = readAlias(e);
  if (alias) parts.push(alias);
  if (e.name === 'disk') parts.push(e.child('target')?.attr('dev') ?? '?');
  if (e.name === 'interface') {
    const mac = e.child('mac')?.attr('address');
    if (mac) parts.push(mac);
  }
  if (e.name === 'controller') parts.push(`${e.attr('type') ?? '?'}:${e.attr('index') ?? 0}`);
  const src = sourceOf(e);
  if (src && e.name !== 'disk') parts.push(src);
  if (parts.length === 0) {
    const kind = e.attr('type') ?? e.child('model')?.attr('type') ?? e.attr('model');
    if (kind) parts.push(kind);
    const addr = addressKey(e);
    if (addr) parts.push(addr.replace(':', ' '));
  }
  return parts.join(' ') || e.name;
}

function pairByIdentity(d: Desired, all: Current[]): Current | undefined | 'none' {
  const rules = identities(d);
  const rule = rules[0];
  if (!rule) return undefined;
  const hits = all.filter((c) => {
    if (c.taken) return false;
    if (c.live && c.live.name === d.el.name && rule.key(c.live) === rule.value) return true;
    return !rule.liveOnly && c.config !== undefined && c.config.name === d.el.name && rule.key(c.config) === rule.value;
  });
  if (hits.length > 1) {
    throw virtError(
      ErrorCode.OPERATION_FAILED,
      `desired <${d.el.name}> is ambiguous: ${rule.name} '${rule.value}' matches ${hits.length} devices: ${hits.map((h) => describe((h.live ?? h.config)!)).join('; ')}`,
    );
  }
  return hits[0] ?? 'none';
}

function pairByContent(given: XmlElement, all: Current[]): Current | undefined {
  const single = SINGLETONS.has(given.name);
  return all.find((c) => {
    if (c.taken) return false;
    const e = (c.live ?? c.config)!;
    return e.name === given.name && (single || sameContent(given, e));
  });
}

/** Parses the desired XML as define would, remembering what each device stated. */
function readDesired(xml: string, input: PlanInput): { def: DomainDef; devices: Desired[]; statedUuid: boolean } {
  const def = new DomainDef(parseXml(xml, { source: 'desired domain definition' }));
  const statedUuid = def.root.child('uuid') !== undefined;
  const type = def.type;
  const raw = new Map<XmlElement, { stated: XmlElement; runtimeAlias?: string }>();
  if (def.root.name === 'domain') {
    const flavour = flavourOf(type);
    for (const e of def.deviceElements()) {
      const stated = e.clone();
      const alias = readAlias(stated);
      stripRuntimeNames(stated, flavour);
      raw.set(e, { stated, runtimeAlias: alias !== undefined && readAlias(stated) === undefined ? alias : undefined });
    }
  }
  normalizeDomainDef(def, { qemuHost: input.qemuHost });
  const devices = def.deviceElements().map((el) => ({ el, ...raw.get(el) }));
  return { def, devices, statedUuid };
}

function checkIdentity(def: DomainDef, statedUuid: boolean, input: PlanInput): void {
  if (def.name !== input.name) {
    throw virtError(ErrorCode.INVALID_ARG, `the desired XML describes domain '${def.name}', not '${input.name}'`);
  }
  if (statedUuid && parseUuid(def.uuid) !== parseUuid(input.uuid)) {
    throw virtError(ErrorCode.INVALID_ARG, `the desired XML's UUID ${def.uuid} is not domain '${input.name}''s (${input.uuid})`);
  }
}

/** A copy of `e` without the fields its desired device did not state, for comparing. */
function comparable(e: XmlElement, d: Desired): XmlElement {
  const c = e.clone();
  const s = d.stated!;
  if (readAlias(s) === undefined) c.removeChildren('alias');
  if (addressKey(s) === undefined) c.removeChildren('address');
  if (c.name === 'interface') {
    if (s.child('mac') === undefined) c.removeChildren('mac');
    if (s.child('target')?.attr('dev') === undefined) {
      const t = c.child('target');
      t?.removeAttr('dev');
      if (t && t.attrs.length === 0 && t.elements().length === 0) c.remove(t);
    }
    // No <link> is link up.
    const link = c.child('link');
    if (link && (link.attr('state') ?? 'up') === 'up' && link.attrs.length <= 1) c.remove(link);
  }
  return c;
}

/** Names of the top-level attributes and child elements that differ. */
function changedFields(a: XmlElement, b: XmlElement): string[] {
  const out = new Set<string>();
  for (const [k] of [...a.attrs, ...b.attrs]) if (a.attr(k) !== b.attr(k)) out.add(k);
  const names = new Set([...a.elements(), ...b.elements()].map((e) => e.name));
  for (const n of names) {
    const x = a.elements(n);
    const y = b.elements(n);
    if (x.length !== y.length || x.some((e, i) => xmlDiff(e, y[i]!) !== undefined)) out.add(n);
  }
  return [...out];
}

function updatableFields(e: XmlElement): string[] {
  if (e.name === 'interface') return IFACE_TUNABLE;
  if (e.name === 'disk' && isRemovable(e)) return ['source', 'type'];
  return [];
}

type Change = { kind: 'same' } | { kind: 'update'; reason: string } | { kind: 'replace'; reason: string };

function compare(d: Desired, cur: XmlElement): Change {
  const a = comparable(d.el, d);
  const b = comparable(cur, d);
  const fields = changedFields(b, a);
  if (fields.length === 0) return { kind: 'same' };
  const updatable = updatableFields(cur);
  if (fields.every((f) => updatable.includes(f))) return { kind: 'update', reason: updateReason(cur, d.el, fields) };
  return { kind: 'replace', reason: `replaced: ${fields.filter((f) => !updatable.includes(f)).join(', ')} differ${fields.length === 1 ? 's' : ''}` };
}

function updateReason(cur: XmlElement, want: XmlElement, fields: string[]): string {
  if (cur.name === 'disk') {
    const from = diskSource(cur);
    const to = diskSource(want);
    return from === undefined ? `media inserted: ${to}` : to === undefined ? `media ejected: ${from}` : `media ${from} -> ${to}`;
  }
  const parts = fields.map((f) => (f === 'link' ? `link state ${cur.child('link')?.attr('state') ?? 'up'} -> ${want.child('link')?.attr('state') ?? 'up'}` : `${f} changed`));
  return parts.join(', ');
}

/** The device as a call for one definition takes it: runtime names only in the live one. */
function forHalf(e: XmlElement, half: Half, type: string): XmlElement {
  const c = e.clone();
  if (half === 'config') stripRuntimeNames(c, flavourOf(type));
  return c;
}

/** `cur` with the desired updatable fields. */
function updated(cur: XmlElement, want: XmlElement): XmlElement {
  const c = cur.clone();
  if (c.name === 'disk') {
    c.removeChildren('source');
    const src = want.child('source');
    if (src) c.insertOrdered(cloneNode(src) as XmlElement, DISK_ORDER);
    const t = want.attr('type');
    if (t !== undefined) c.setAttr('type', t);
    return c;
  }
  for (const n of IFACE_TUNABLE) {
    c.removeChildren(n);
    for (const x of want.elements(n)) c.insertOrdered(x.clone(), INTERFACE_ORDER);
  }
  return c;
}

interface HalfCall {
  action: PlannedOperation['action'];
  half: Half;
  xml: string;
  /** The same call for the other definition has this XML when the copies are alike (runtime names aside). */
  mergeKey: string;
  reason: string;
  /** The device as define completes it, for the live hot-plug checks. */
  el: XmlElement;
  /** How the plan names it: from the XML of the call (never a MAC only define generated). */
  name: string;
  /** No call can make this change: the device is a needs-restart entry. */
  restart?: boolean;
}

/** A call with `e` as its XML; `about` is the device as define completes it (what the live checks look at). */
function call(action: HalfCall['action'], half: Half, e: XmlElement, type: string, reason: string, about: XmlElement = e): HalfCall {
  return { action, half, xml: serializeXml(e), mergeKey: serializeXml(forHalf(e, 'config', type)), reason, el: about, name: describe(e) };
}

export function planDevices(input: PlanInput, xml: string): DevicePlan {
  const { def: desired, devices, statedUuid } = readDesired(xml, input);
  checkIdentity(desired, statedUuid, input);
  const type = (input.live ?? input.config)!.type;
  const halves: Half[] = [];
  if (input.live) halves.push('live');
  if (input.config) halves.push('config');
  const current = pairCopies(input.live, input.config);

  // Identities first (a stated one decides), then content, then define's implicit devices.
  const pairs = new Map<Desired, Current | undefined>();
  const stated = devices.filter((d) => d.stated);
  for (const d of stated) {
    const hit = pairByIdentity(d, current);
    if (hit === undefined) continue;
    pairs.set(d, hit === 'none' ? undefined : hit);
    if (hit !== 'none') hit.taken = true;
  }
  for (const d of stated) {
    if (pairs.has(d)) continue;
    const hit = pairByContent(d.stated!, current);
    pairs.set(d, hit);
    if (hit) hit.taken = true;
  }
  // A changed video (say) is one device replaced: the one left of its kind on each side pair up.
  for (const d of stated) {
    if (pairs.get(d) || ['disk', 'interface', 'controller'].includes(d.el.name)) continue;
    const mine = stated.filter((x) => x.el.name === d.el.name && !pairs.get(x));
    const theirs = current.filter((c) => !c.taken && (c.live ?? c.config)!.name === d.el.name);
    if (mine.length === 1 && theirs.length === 1) {
      pairs.set(d, theirs[0]);
      theirs[0]!.taken = true;
    }
  }
  for (const d of devices) {
    if (d.stated) continue;
    const hit = pairByContent(d.el, current);
    if (hit) hit.taken = true;
  }

  const needsRestart: RestartEntry[] = domainRestartEntries({ desired, config: input.config, live: input.live });
  const perDevice: HalfCall[][] = [];
  for (const [d, cur] of pairs) perDevice.push(callsFor(d, cur, halves, type));
  for (const cur of current) {
    if (cur.taken) continue;
    const e = (cur.live ?? cur.config)!;
    if (e.name === 'controller') continue;
    perDevice.push(halves.filter((h) => cur[h]).map((h) => call('detach', h, cur[h]!, type, 'not in the desired XML')));
  }

  const operations: PlannedOperation[] = [];
  const hotplug = rulesFor(type).hotplug;
  for (const calls of perDevice) {
    if (calls.length === 0) continue;
    const blocked = liveBlock(calls, hotplug, input.live);
    if (blocked) {
      needsRestart.push(blocked);
      continue;
    }
    operations.push(...merge(calls));
  }
  const rank = { detach: 0, update: 1, attach: 2 };
  operations.sort((a, b) => rank[a.action] - rank[b.action]);
  return { domain: input.name, active: input.live !== undefined, persistent: input.config !== undefined, operations, needsRestart };
}

/** The calls one desired device needs in each definition the domain has. */
function callsFor(d: Desired, cur: Current | undefined, halves: Half[], type: string): HalfCall[] {
  const out: HalfCall[] = [];
  for (const h of halves) {
    const have = cur?.[h];
    if (!have) {
      // The other definition's copy keeps its MAC and slot; a new device is what the XML stated.
      const other = cur?.[h === 'live' ? 'config' : 'live'];
      const source = other ? forHalf(other, 'config', type) : d.stated!;
      out.push(call('attach', h, source, type, other ? `only in the ${h === 'live' ? 'persistent' : 'running'} definition` : 'new device', other ?? d.el));
      continue;
    }
    const change = compare(d, have);
    if (change.kind === 'same') continue;
    if (d.el.name === 'controller' && change.kind === 'replace') {
      // Placement: never replaced by hot-plug calls.
      out.push({ action: 'update', half: h, xml: '', mergeKey: '', reason: `${change.reason}; controllers are not replaced`, el: have, name: describe(have), restart: true });
      continue;
    }
    if (change.kind === 'update') {
      out.push(call('update', h, forHalf(updated(have, d.el), h, type), type, change.reason));
    } else {
      out.push(call('detach', h, have, type, change.reason));
      out.push(call('attach', h, d.stated!, type, change.reason, d.el));
    }
  }
  return out;
}

/** The running definition as a replacing attach finds it: without the device its detach removes. */
function afterDetaches(live: DomainDef, calls: HalfCall[]): DomainDef {
  const gone = new Set(calls.filter((c) => c.half === 'live' && c.action === 'detach').map((c) => readAlias(c.el)));
  if (gone.size === 0) return live;
  const def = live.clone();
  for (const d of def.deviceElements()) if (gone.has(readAlias(d))) def.removeDevice(d);
  return def;
}

/** A device whose live change the hypervisor cannot make: its restart entry. */
function liveBlock(calls: HalfCall[], hotplug: ReturnType<typeof rulesFor>['hotplug'], live: DomainDef | undefined): RestartEntry | undefined {
  const first = calls[0]!;
  const what = `${first.el.name} ${first.name}`;
  for (const c of calls) {
    if (c.restart) return { what, reason: `${c.reason}: define the desired XML, then restart the domain` };
    if (c.half !== 'live' || !live) continue;
    try {
      if (c.action === 'attach') hotplug.checkLiveAttach(c.el, afterDetaches(live, calls));
      if (c.action === 'detach') hotplug.checkLiveDetach(c.el);
    } catch (err) {
      return { what, reason: `${(err as Error).message} (${c.reason}): define the desired XML, then restart the domain` };
    }
  }
  return undefined;
}

/** One call per action and XML: the live and persistent halves merge when their XML agrees. */
function merge(calls: HalfCall[]): PlannedOperation[] {
  const out: PlannedOperation[] = [];
  const used = new Set<HalfCall>();
  for (const c of calls) {
    if (used.has(c)) continue;
    used.add(c);
    const twin = calls.find((o) => !used.has(o) && o.action === c.action && o.half !== c.half && o.mergeKey === c.mergeKey);
    let flags = FLAG[c.half];
    let xml = c.xml;
    if (twin) {
      used.add(twin);
      flags |= FLAG[twin.half];
      // The live copy's XML names the device exactly (its alias) for a detach; otherwise the runtime-free one.
      xml = c.action === 'detach' ? (c.half === 'live' ? c.xml : twin.xml) : c.mergeKey;
    }
    out.push({ action: c.action, device: c.el.name, name: c.name, flags, xml, reason: c.reason });
  }
  return out;
}
