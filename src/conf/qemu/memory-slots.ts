/**
 * DIMM slots of memory devices (qemuDomainAssignMemorySlots): a DIMM or NVDIMM without an address
 * gets the lowest slot no other memory device uses.
 */
import { el } from '../../xml/index.js';
import { setAddress } from '../devices/common.js';
import type { DomainDef } from '../domain.js';

const SLOTTED = new Set(['dimm', 'nvdimm']);

export function assignMemorySlots(def: DomainDef): void {
  const mems = def.peekNamed('memory').filter((m) => SLOTTED.has(m.attr('model') ?? ''));
  if (mems.length === 0) return;
  const used = new Set<number>();
  for (const m of mems) {
    const a = m.child('address');
    if (a?.attr('type') === 'dimm' && a.hasAttr('slot')) used.add(Number(a.attr('slot')));
  }
  for (const m of mems) {
    const a = m.child('address');
    if (a && (a.attr('type') !== 'dimm' || a.hasAttr('slot'))) continue;
    let slot = 0;
    while (used.has(slot)) slot++;
    used.add(slot);
    const next = el('address', { type: 'dimm', slot });
    if (a?.hasAttr('base')) next.setAttr('base', a.attr('base'));
    setAddress(m, next);
  }
}
