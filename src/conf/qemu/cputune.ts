/**
 * I/O threads and CPU tuning as libvirt stores them: `<iothreadids>` completed up to `<iothreads>`
 * (the lowest unused ids), pins listed in I/O thread order, and scheduler settings kept per vCPU and
 * per I/O thread, so `vcpus='0-1'` prints as one entry per vCPU.
 */
import { el, type XmlElement } from '../../xml/index.js';
import type { DomainDef } from '../domain.js';
import { parseCpuset } from './numa.js';

function iothreadIds(def: DomainDef): number[] | undefined {
  const root = def.root;
  const ids = root.child('iothreadids');
  const count = Number(root.child('iothreads')?.text().trim() || 0);
  if (!ids) return undefined;
  const list = ids.elements('iothread').map((t) => Number(t.attr('id')));
  const used = new Set(list);
  for (let next = 1; list.length < count; next++) {
    if (used.has(next)) continue;
    used.add(next);
    list.push(next);
    ids.append(el('iothread', { id: next }));
  }
  return list;
}

/** One scheduler element per id, in id order. */
function splitSched(cputune: XmlElement, name: string, attr: string): void {
  const entries = cputune.elements(name);
  if (entries.length === 0) return;
  const byId = new Map<number, XmlElement>();
  for (const e of entries) {
    const ids = parseCpuset(e.attr(attr) ?? '', `<${name} ${attr}>`);
    for (const id of ids) {
      const copy = e.clone();
      copy.setAttr(attr, id);
      byId.set(id, copy);
    }
  }
  const sorted = [...byId].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
  const first = cputune.children.indexOf(entries[0]!);
  cputune.children = cputune.children.filter((c) => !(c.kind === 'element' && c.name === name));
  cputune.children.splice(first, 0, ...sorted);
}

export function normalizeCputune(def: DomainDef): void {
  const ids = iothreadIds(def);
  const cputune = def.root.child('cputune');
  if (!cputune) return;
  splitSched(cputune, 'vcpusched', 'vcpus');
  splitSched(cputune, 'iothreadsched', 'iothreads');
  const pins = cputune.elements('iothreadpin');
  if (pins.length > 1) {
    const rank = (p: XmlElement): number => {
      const id = Number(p.attr('iothread'));
      const i = ids?.indexOf(id) ?? -1;
      return i >= 0 ? i : id;
    };
    const sorted = [...pins].sort((a, b) => rank(a) - rank(b));
    let k = 0;
    cputune.children = cputune.children.map((c) => (c.kind === 'element' && c.name === 'iothreadpin' ? sorted[k++]! : c));
  }
}
