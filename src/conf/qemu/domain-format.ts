/**
 * Domain-level values libvirt's parser normalizes and its formatter prints in one fixed form: feature
 * switches spelled out (`<pmu/>` is `<pmu state='on'/>`), memory tuning and PCI hole sizes in KiB
 * (unlimited values left out), the SMM TSEG size in MiB, the boot menu timeout only when the menu is
 * on, `<loader>` of type rom by default, an empty `<cpu/>` dropped, `<os>` children in their order.
 */
import { el, XmlElement } from '../../xml/index.js';
import { toKiB } from '../units.js';
import type { DomainDef } from '../domain.js';
import { generateUuid } from '../uuid.js';

/** Features whose bare element means "on" (libvirt's tristate-switch features). */
const SWITCH_FEATURES = new Set(['pvspinlock', 'pmu', 'vmcoreinfo', 'htm', 'nested-hv', 'ccf-assist', 'smm', 'vmport', 'async-teardown']);

/** The largest value libvirt stores for a memory tunable; anything at or above it means "unlimited". */
const UNLIMITED_KIB = 9007199254740991;

const OS_ORDER = ['type', 'firmware', 'init', 'initarg', 'initenv', 'initdir', 'inituser', 'initgroup', 'loader', 'nvram', 'kernel', 'initrd', 'cmdline', 'dtb', 'root', 'acpi', 'boot', 'bootmenu', 'bios', 'smbios'];

/** Each order's names to their positions, made once per order table (the tables are module constants). */
const RANKS = new WeakMap<readonly string[], Map<string, number>>();

function ranksOf(order: readonly string[]): Map<string, number> {
  let ranks = RANKS.get(order);
  if (!ranks) {
    ranks = new Map();
    // The first occurrence counts, as with indexOf.
    for (let i = order.length - 1; i >= 0; i--) ranks.set(order[i]!, i);
    RANKS.set(order, ranks);
  }
  return ranks;
}

/** Stable sort of an element's child elements by `order` (unknown names last); layout text is dropped. */
export function sortChildren(parent: XmlElement, order: readonly string[]): void {
  const ranks = ranksOf(order);
  const rank = (n: string): number => ranks.get(n) ?? order.length;
  // Most elements are in order already: one look at each child element, no array made.
  let sorted = true;
  let last = -1;
  const children = parent.children;
  for (let i = 0; i < children.length && sorted; i++) {
    const c = children[i]!;
    if (!(c instanceof XmlElement)) continue;
    const r = rank(c.name);
    if (r < last) sorted = false;
    last = r;
  }
  if (sorted) return;
  const nodes = parent.children.filter((c) => c.kind !== 'text' || c.text.trim() !== '');
  const elems = nodes.map((n, i) => ({ n, i })).filter((x) => x.n.kind === 'element');
  const order2 = [...elems].sort((a, b) => rank((a.n as XmlElement).name) - rank((b.n as XmlElement).name) || a.i - b.i);
  let k = 0;
  parent.children = nodes.map((n) => (n.kind === 'element' ? order2[k++]!.n : n));
}

function features(def: DomainDef): void {
  const f = def.root.child('features');
  if (!f) return;
  for (const e of f.elements()) {
    if (SWITCH_FEATURES.has(e.name) && !e.hasAttr('state')) e.attrs.unshift(['state', 'on']);
    if (e.name === 'hyperv' && !e.hasAttr('mode')) e.attrs.unshift(['mode', 'custom']);
    if (e.name === 'smm') {
      const tseg = e.child('tseg');
      if (tseg) {
        const kib = toKiB(tseg.text(), tseg.attr('unit') ?? 'MiB', '<tseg>');
        tseg.attrs = [['unit', 'MiB']];
        tseg.setText(Math.floor(kib / 1024));
      }
    }
  }
}

/** Rewrites a sized element in KiB; returns false when the value means "unlimited". */
function inKiB(e: XmlElement, what: string): boolean {
  const kib = toKiB(e.text(), e.attr('unit'), what);
  if (kib >= UNLIMITED_KIB) return false;
  e.attrs = [['unit', 'KiB'], ...e.attrs.filter(([k]) => k !== 'unit')];
  e.setText(kib);
  return true;
}

function memtune(def: DomainDef): void {
  const m = def.root.child('memtune');
  if (!m) return;
  for (const e of m.elements()) if (!inKiB(e, `<memtune><${e.name}>`)) m.remove(e);
  if (m.elements().length === 0) def.root.remove(m);
}

function os(def: DomainDef): void {
  const o = def.root.child('os');
  if (!o) return;
  const loader = o.child('loader');
  if (loader?.text().trim() && !loader.hasAttr('type')) loader.setAttr('type', 'rom');
  const menu = o.child('bootmenu');
  if (menu && menu.attr('enable') !== 'yes') menu.removeAttr('timeout');
  const fw = o.child('firmware');
  const enrolled = fw?.elements('feature').find((x) => x.attr('name') === 'enrolled-keys' && x.attr('enabled') === 'yes');
  if (fw && enrolled && !fw.elements('feature').some((x) => x.attr('name') === 'secure-boot')) {
    // Enrolled keys imply Secure Boot; libvirt lists features in its own order (enrolled-keys, secure-boot).
    fw.append(el('feature', { enabled: 'yes', name: 'secure-boot' }));
  }
  sortChildren(o, OS_ORDER);
}

export function domainFormat(def: DomainDef): void {
  features(def);
  memtune(def);
  os(def);
  const cpu = def.root.child('cpu');
  if (cpu && cpu.attrs.length === 0 && cpu.elements().length === 0) def.root.remove(cpu);
  const model = cpu?.child('model');
  // A model element without a name is printed only to carry a vendor_id.
  if (cpu && model && !model.text().trim() && !model.hasAttr('vendor_id')) cpu.remove(model);
  const genid = def.root.child('genid');
  if (genid && !genid.text().trim()) genid.setText(generateUuid());
  for (const c of def.peekNamed('controller')) {
    const hole = c.child('pcihole64');
    if (hole) inKiB(hole, '<pcihole64>');
  }
}
