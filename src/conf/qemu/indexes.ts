/**
 * Numbers libvirt fills in before device defaults: controller indexes left out of the XML
 * (virDomainAssignControllerIndexes — the lowest free index, USB2 companions joining their EHCI) and
 * the ports of ISA serials named `isa-serial` without one (the lowest free of the four).
 */
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';
import type { DomainDef } from '../domain.js';

const USB2 = new Set(['ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3']);
const isUsb2 = (c: XmlElement): boolean => c.attr('type') === 'usb' && USB2.has(c.attr('model') ?? '');

export function assignControllerIndexes(def: DomainDef): void {
  const controllers = def.elementsNamed('controller');
  const used = new Map<string, Set<number>>();
  for (const c of controllers) {
    const i = c.attr('index');
    if (i === undefined) continue;
    const type = c.attr('type') ?? '';
    if (!used.has(type)) used.set(type, new Set());
    used.get(type)!.add(Number(i));
  }
  controllers.forEach((c, outer) => {
    if (c.hasAttr('index')) return;
    const type = c.attr('type') ?? '';
    let index: number | undefined;
    if (outer > 0 && isUsb2(c)) {
      // A USB2 companion joins the USB2 controller listed just before it, unless that index already has its model.
      const prev = controllers
        .slice(0, outer)
        .reverse()
        .find((p) => p.attr('type') === 'usb');
      if (prev && isUsb2(prev)) {
        const idx = Number(prev.attr('index'));
        const taken = controllers.some((o) => o.attr('type') === 'usb' && o.hasAttr('index') && Number(o.attr('index')) === idx && o.attr('model') === c.attr('model'));
        if (!taken) index = idx;
      }
    }
    if (index === undefined) {
      const set = used.get(type) ?? new Set<number>();
      index = 0;
      while (set.has(index)) index++;
    }
    if (!used.has(type)) used.set(type, new Set());
    used.get(type)!.add(index);
    // libvirt prints index right after type.
    const at = c.attrs.findIndex(([k]) => k === 'type');
    c.attrs.splice(at + 1, 0, ['index', String(index)]);
  });
}

/** Ports of serials explicitly of target type isa-serial (virDomainChrIsaSerialDefPostParse). */
export function assignIsaSerialPorts(def: DomainDef): void {
  const isa = def.peekNamed('serial').filter((s) => s.child('target')?.attr('type') === 'isa-serial');
  const used = [false, false, false, false];
  isa.forEach((s, n) => {
    const p = s.child('target')?.attr('port');
    if (n >= 4 || (p !== undefined && Number(p) >= 4)) throw virtError(ErrorCode.INTERNAL_ERROR, "Maximum supported number of ISA serial ports is '4'");
    if (p === undefined) return;
    if (used[Number(p)]) throw virtError(ErrorCode.INTERNAL_ERROR, `target port '${p}' already allocated`);
    used[Number(p)] = true;
  });
  for (const s of isa) {
    const t = s.child('target')!;
    if (t.hasAttr('port')) continue;
    const free = used.indexOf(false);
    if (free >= 0) {
      t.setAttr('port', free);
      used[free] = true;
    }
  }
}
