/**
 * Declarative devices: what differs outside `<devices>` between a desired domain and the current
 * definitions (memory, vCPUs, machine type, os, cpu, features, ...). No hot-plug call changes these,
 * so each becomes a `needs restart` entry; nothing here is ever applied.
 */
import type { DomainDef } from '../conf/index.js';
import type { RestartEntry } from '../shared/declarative.js';
import { serializeXml, type XmlElement, xmlDiff } from '../xml/index.js';

/** Not compared: identity (checked before), free text and metadata (virDomainSetMetadata changes them), and the devices (planned one by one). */
const SKIPPED = new Set(['name', 'uuid', 'title', 'description', 'metadata', 'devices']);

const LABELS: Record<string, string> = {
  memory: 'memory',
  currentMemory: 'current memory',
  maxMemory: 'maximum memory',
  vcpu: 'vcpus',
  vcpus: 'vcpus',
};

function sameList(a: XmlElement[], b: XmlElement[]): boolean {
  return a.length === b.length && a.every((x, i) => xmlDiff(x, b[i]!) === undefined);
}

function compact(els: XmlElement[]): string {
  if (els.length === 0) return '(none)';
  const text = els.map((e) => serializeXml(e).replace(/\s*\n\s*/g, '')).join('');
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function render(name: string, els: XmlElement[]): string {
  const e = els[0];
  if (!e) return '(none)';
  if (name === 'memory' || name === 'currentMemory' || name === 'maxMemory') return `${e.text().trim()} ${e.attr('unit') ?? 'KiB'}`;
  if (name === 'vcpu') return e.attr('current') ? `${e.text().trim()} (current ${e.attr('current')})` : e.text().trim();
  return compact(els);
}

/** `<os>` that differs only in the machine type is reported as that. */
function machineOnly(a: XmlElement[], b: XmlElement[]): { current: string; desired: string } | undefined {
  const ta = a[0]?.child('type');
  const tb = b[0]?.child('type');
  if (a.length !== 1 || b.length !== 1 || !ta || !tb) return undefined;
  const ma = ta.attr('machine');
  const mb = tb.attr('machine');
  if (ma === mb) return undefined;
  const ca = a[0]!.clone();
  const cb = b[0]!.clone();
  ca.child('type')!.removeAttr('machine');
  cb.child('type')!.removeAttr('machine');
  return xmlDiff(ca, cb) === undefined ? { current: ma ?? '(default)', desired: mb ?? '(default)' } : undefined;
}

function topLevel(def: DomainDef): Map<string, XmlElement[]> {
  const out = new Map<string, XmlElement[]>();
  for (const e of def.root.elements()) {
    if (SKIPPED.has(e.name)) continue;
    const list = out.get(e.name);
    if (list) list.push(e);
    else out.set(e.name, [e]);
  }
  const emulator = def.emulator;
  if (emulator !== undefined) out.set('emulator', [def.root.child('devices')!.child('emulator')!]);
  return out;
}

export interface DomainDiffInput {
  desired: DomainDef;
  config?: DomainDef;
  live?: DomainDef;
}

/**
 * One entry per top-level part that differs from the definition the domain boots from (the persistent
 * one) or runs with (the live one). Parts only the live definition has (runtime additions) are not
 * compared; a part the persistent definition has already is "restart to take it".
 */
export function domainRestartEntries({ desired, config, live }: DomainDiffInput): RestartEntry[] {
  const want = topLevel(desired);
  const cfg = config ? topLevel(config) : undefined;
  const run = live ? topLevel(live) : undefined;
  const names = [...want.keys()];
  for (const n of cfg?.keys() ?? run?.keys() ?? []) if (!want.has(n)) names.push(n);
  const out: RestartEntry[] = [];
  const typeOf = (d: DomainDef | undefined): string | undefined => d?.type;
  const current = config ?? live;
  if (current && typeOf(current) !== desired.type) {
    out.push({ what: 'domain type', current: current.type, desired: desired.type, reason: reasonFor(Boolean(live), false) });
  }
  for (const name of names) {
    const w = want.get(name) ?? [];
    const c = cfg?.get(name) ?? [];
    const r = run?.get(name) ?? [];
    const configDiffers = cfg !== undefined && !sameList(w, c);
    const liveDiffers = run !== undefined && (cfg === undefined || w.length > 0 || c.length > 0) && !sameList(w, r);
    if (!configDiffers && !liveDiffers) continue;
    const from = configDiffers ? c : r;
    const machine = name === 'os' ? machineOnly(from, w) : undefined;
    out.push({
      what: machine ? 'machine type' : (LABELS[name] ?? name),
      current: machine ? machine.current : render(name, from),
      desired: machine ? machine.desired : render(name, w),
      reason: reasonFor(live !== undefined, !configDiffers),
    });
  }
  return out;
}

function reasonFor(running: boolean, inConfigAlready: boolean): string {
  if (!running) return 'not a device: define the desired XML to change it';
  if (inConfigAlready) return 'the persistent definition has it already: restart the domain to take it';
  return 'cannot change while the domain runs: define the desired XML, then restart the domain';
}
