/**
 * The serial/console pairing of HVM guests (virDomainDefAddConsoleCompat and the formatter's console
 * rule): a first `<console>` of target type serial stands for serial port 0 — it creates that serial
 * when there is none, and is always printed as a copy of the serial it stands for; a guest with a
 * serial port and no such console gets one.
 */
import { ErrorCode, virtError } from '../../errors.js';
import { el, type XmlElement } from '../../xml/index.js';
import type { DomainDef } from '../domain.js';

const targetType = (chr: XmlElement): string | undefined => chr.child('target')?.attr('type');

/** Serial target types a stub console is created for. */
const STUB_FOR = new Set([undefined, 'isa-serial', 'spapr-vio-serial', 'system-serial', 'sclp-serial']);

/** Runs before the serial defaults are re-applied; returns the serial it created from the console, if any. */
export function consoleCompat(def: DomainDef): XmlElement | undefined {
  if ((def.root.child('os')?.child('type')?.text().trim() || 'hvm') !== 'hvm') return undefined;
  const consoles = def.elementsNamed('console');
  for (const c of consoles.slice(1)) {
    if (targetType(c) === 'serial') throw virtError(ErrorCode.CONFIG_UNSUPPORTED, 'Only the first console can be a serial port');
  }
  const serials = def.elementsNamed('serial');
  const first = consoles[0];
  const firstType = first ? targetType(first) : undefined;
  if (first && (firstType === undefined || firstType === 'serial')) {
    if (serials.length > 0) return undefined;
    // The console is the guest's first serial port: make that port, and keep the console as its alias.
    const serial = el('serial', Object.fromEntries(first.attrs));
    for (const c of first.elements()) if (c.name !== 'target' && c.name !== 'alias' && c.name !== 'address') serial.append(c.clone());
    serial.append(el('target', { port: 0 }));
    def.addDevice(serial);
    return serial;
  }
  if (serials.length > 0 && STUB_FOR.has(targetType(serials[0]!))) {
    const stub = el('console', { type: 'pty' }, el('target', { type: 'serial' }));
    if (first) def.insertDeviceBefore(stub, first);
    else def.addDevice(stub);
  }
  return undefined;
}

/** Console N of target serial (N < number of serials) is printed as a copy of serial N. */
export function mirrorSerialConsoles(def: DomainDef): void {
  if ((def.root.child('os')?.child('type')?.text().trim() || 'hvm') !== 'hvm') return;
  const serials = def.elementsNamed('serial');
  const consoles = def.elementsNamed('console');
  consoles.forEach((c, n) => {
    const t = targetType(c);
    if ((t !== undefined && t !== 'serial') || n >= serials.length) return;
    const s = serials[n]!;
    const copy = el('console');
    copy.attrs = s.attrs.map(([k, v]) => [k, v]);
    for (const child of s.elements()) {
      if (child.name === 'target') copy.append(el('target', { type: 'serial', port: child.attr('port') ?? 0 }));
      else copy.append(child.clone());
    }
    def.replaceDevice(c, copy);
  });
}
