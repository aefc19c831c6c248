/**
 * Reserving hot-plug slots at define (the contract's `defineXML(xml, { hotplugSlots: N })`, CLI
 * `define FILE --hotplug-slots N`). A running q35 domain can hot-plug a PCIe device only into a
 * pcie-root-port it was started with, and libvirt's define leaves at most one spare; this adds
 * empty root ports until N are free. A pc domain hot-plugs into the free slots of pci.0, which
 * are only checked. A plain define is never touched (libvirt's normalisation, as the oracle wants).
 */
import { readPciAddress } from '../conf/address.js';
import type { DomainDef } from '../conf/index.js';
import { ErrorCode, virtError } from '../errors.js';
import { el, parseXml, serializeXml } from '../xml/index.js';

/** At most this many reserved slots (a q35 domain has 256 buses; libvirt users rarely ask for more than 32). */
export const MAX_HOTPLUG_SLOTS = 64;

const pciControllers = (def: DomainDef) => def.elementsNamed('controller').filter((c) => c.attr('type') === 'pci');

export function isQ35Def(def: DomainDef): boolean {
  return pciControllers(def).some((c) => c.attr('model') === 'pcie-root');
}

/** Buses some device (controllers included) sits on. */
function busesInUse(def: DomainDef): Set<number> {
  const used = new Set<number>();
  for (const d of def.deviceElements()) {
    const a = readPciAddress(d);
    if (a) used.add(a.bus);
  }
  return used;
}

/** Root ports with nothing plugged into them and hot-plug on: the slots a running q35 domain can plug into. */
export function freeRootPorts(def: DomainDef): number {
  const used = busesInUse(def);
  return pciControllers(def).filter(
    (c) => c.attr('model') === 'pcie-root-port' && c.child('target')?.attr('hotplug') !== 'off' && !used.has(Number(c.attr('index') ?? -1)),
  ).length;
}

/** Free slots of pci.0 (slot 0 is the host bridge). */
function freeRootSlots(def: DomainDef): number {
  const taken = new Set<number>([0]);
  for (const d of def.deviceElements()) {
    const a = readPciAddress(d);
    if (a && a.bus === 0) taken.add(a.slot);
  }
  return 32 - taken.size;
}

export function checkHotplugSlots(n: unknown, fn: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > MAX_HOTPLUG_SLOTS) {
    throw virtError(ErrorCode.INVALID_ARG, `hotplugSlots in ${fn} must be an integer from 0 to ${MAX_HOTPLUG_SLOTS}, got ${String(n)}`);
  }
  return n;
}

/**
 * The definition of `xml` (parsed by `parse`, libvirt's normalisation) with at least `n` free
 * hot-plug slots: empty pcie-root-ports added on q35 (numbered and placed by the same normalisation,
 * as if the XML had named them), checked on pc.
 */
export function withHotplugSlots(xml: string, n: number, parse: (xml: string) => DomainDef): DomainDef {
  let def = parse(xml);
  if (n === 0) return def;
  if (def.type !== 'qemu' && def.type !== 'kvm') {
    throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `reserving hot-plug slots applies to qemu and kvm domains, not '${def.type}'`);
  }
  if (!isQ35Def(def)) {
    const free = freeRootSlots(def);
    if (free < n) {
      throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `only ${free} PCI slots of pci.0 are free for hot-plug, ${n} asked: use a q35 machine or add a pci-bridge controller`);
    }
    return def;
  }
  const raw = parseXml(xml, { source: 'domain definition' });
  let devices = raw.child('devices');
  if (!devices) {
    devices = el('devices');
    raw.append(devices);
  }
  // Each round adds what is missing; the normalisation may itself use a port it was given (at most two rounds in practice).
  for (let round = 0; round < 4; round++) {
    const missing = n - freeRootPorts(def);
    if (missing <= 0) return def;
    // Indexes after every PCI controller the normalisation made, as a user would write them.
    let index = Math.max(0, ...pciControllers(def).map((c) => Number(c.attr('index') ?? 0)));
    for (let i = 0; i < missing; i++) devices.append(el('controller', { type: 'pci', index: ++index, model: 'pcie-root-port' }));
    def = parse(serializeXml(raw));
  }
  throw virtError(ErrorCode.INTERNAL_ERROR, `could not reserve ${n} free pcie-root-ports`);
}
