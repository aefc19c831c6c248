/**
 * PCI address assignment for QEMU-style domains (x86 pc and q35), modelled on
 * libvirt's qemu_domain_address.c: fixed slots for the built-in chipset
 * functions, then the first free slot per device; on q35 every endpoint sits
 * behind its own pcie-root-port.
 */
import { ErrorCode, virtError } from '../errors.js';
import { el, type XmlElement } from '../xml/index.js';
import { formatPciAddress, pciAddressElement, readPciAddress } from './address.js';
import { setAddress } from './devices/common.js';
import type { DomainDef } from './domain.js';

export function isQ35(def: DomainDef): boolean {
  return (def.machine ?? '').includes('q35');
}

export function isX86(def: DomainDef): boolean {
  const arch = def.arch ?? 'x86_64';
  return arch === 'x86_64' || arch === 'i686';
}

/** Whether a device element lives on PCI (when it has no other address type). */
export function wantsPci(dev: XmlElement): boolean {
  const a = dev.child('address');
  if (a) return false;
  switch (dev.name) {
    case 'interface': {
      const model = dev.child('model')?.attr('type');
      const type = dev.attr('type');
      if (type === 'hostdev') return false;
      return model !== 'usb-net' && model !== 'spapr-vlan';
    }
    case 'disk':
      return dev.child('target')?.attr('bus') === 'virtio';
    case 'controller': {
      const type = dev.attr('type');
      const model = dev.attr('model');
      if (type === 'pci') return model !== 'pci-root' && model !== 'pcie-root' && model !== undefined;
      if (type === 'usb') return model !== 'none' && model !== 'piix3-uhci';
      if (type === 'ide' || type === 'fdc' || type === 'xenbus' || type === 'isa' || type === 'ccid') return false;
      if (type === 'sata') return Number(dev.attr('index') ?? 0) !== 0;
      return true;
    }
    case 'memballoon':
    case 'rng':
      return dev.attr('model') === 'virtio' || dev.attr('model') === 'virtio-transitional';
    case 'watchdog':
      return dev.attr('model') === 'i6300esb';
    case 'video':
      return (dev.child('model')?.attr('type') ?? 'cirrus') !== 'none';
    case 'sound':
      return !['pcspk', 'usb', 'sb16'].includes(dev.attr('model') ?? '');
    case 'hostdev':
      return dev.attr('type') === 'pci';
    case 'filesystem':
    case 'shmem':
    case 'vsock':
      return true;
    case 'input':
      return dev.attr('bus') === 'virtio';
    default:
      return false;
  }
}

/** Set of `bus:slot` keys already taken (any function). */
function usedSlots(def: DomainDef): Set<string> {
  const used = new Set<string>();
  for (const e of def.deviceElements()) {
    const a = readPciAddress(e);
    if (a) used.add(`${a.bus}:${a.slot}`);
  }
  return used;
}

/** Rejects two devices on one PCI function (libvirt: "Attempted double use of PCI Address"). */
export function checkPciClashes(def: DomainDef): void {
  const seen = new Map<string, string>();
  for (const e of def.deviceElements()) {
    // A serial console is the serial device itself, printed twice with the same address.
    if (e.name === 'console') continue;
    const a = readPciAddress(e);
    if (!a) continue;
    const key = formatPciAddress(a);
    const prev = seen.get(key);
    if (prev) throw virtError(ErrorCode.XML_ERROR, `Attempted double use of PCI Address ${key} (by <${prev}> and <${e.name}>)`);
    seen.set(key, e.name);
  }
}

function freeSlotOnBus0(used: Set<string>, from: number): number | undefined {
  for (let slot = from; slot <= 0x1f; slot++) if (!used.has(`0:${slot}`)) return slot;
  return undefined;
}

function noSlots(): never {
  throw virtError(ErrorCode.INTERNAL_ERROR, 'No more available PCI slots');
}

/** Root ports (q35) that no device sits behind yet. */
function freeRootPorts(def: DomainDef): number[] {
  const ports = def
    .elementsNamed('controller')
    .filter((c) => c.attr('type') === 'pci' && c.attr('model') === 'pcie-root-port')
    .map((c) => Number(c.attr('index') ?? 0));
  const busy = new Set<number>();
  for (const e of def.deviceElements()) {
    const a = readPciAddress(e);
    if (a && a.bus !== 0) busy.add(a.bus);
  }
  return ports.filter((p) => !busy.has(p));
}

function addRootPort(def: DomainDef, used: Set<string>): number {
  const slot = freeSlotOnBus0(used, 2) ?? noSlots();
  used.add(`0:${slot}`);
  const index = Math.max(0, ...def.elementsNamed('controller').filter((c) => c.attr('type') === 'pci').map((c) => Number(c.attr('index') ?? 0))) + 1;
  const port = el(
    'controller',
    { type: 'pci', index, model: 'pcie-root-port' },
    el('model', { name: 'pcie-root-port' }),
    el('target', { chassis: index, port: '0x' + (0x10 + index - 1).toString(16) }),
    pciAddressElement({ domain: 0, bus: 0, slot, function: 0 }),
  );
  def.addDevice(port);
  return index;
}

/** libvirt's assignment order: controllers first, then NICs, sound, disks, hostdevs, balloon, rng, ... */
const ASSIGN_ORDER = ['video', 'controller', 'filesystem', 'interface', 'sound', 'disk', 'hostdev', 'memballoon', 'rng', 'watchdog', 'input', 'shmem', 'vsock'];

/**
 * Gives every PCI device without an address one. `allowNewPorts` lets q35 grow
 * a pcie-root-port per device (define / config attach); live attach must find a free one.
 */
export function assignPciAddresses(def: DomainDef, options: { allowNewPorts: boolean }, only?: XmlElement[]): void {
  const used = usedSlots(def);
  used.add('0:0');
  if (!isQ35(def)) used.add('0:1'); // PIIX3: ISA bridge, IDE, USB, PM functions
  const q35 = isQ35(def);
  const candidates = (only ?? def.deviceElements()).filter(wantsPci);
  candidates.sort((a, b) => ASSIGN_ORDER.indexOf(a.name) - ASSIGN_ORDER.indexOf(b.name));
  // The primary video card owns slot 2 (pc) / 1 (q35) when there is one; otherwise that slot is free for others.
  const primaryVideo = def.deviceElements().find((e) => e.name === 'video');
  const videoSlot = q35 ? 1 : 2;
  if (primaryVideo && !primaryVideo.child('address')) used.add(`0:${videoSlot}`);
  for (const dev of candidates) {
    const isPrimaryVideo = dev === primaryVideo;
    const integrated = dev.name === 'video' || (dev.name === 'controller' && dev.attr('model') === 'pcie-root-port');
    if (!q35 || integrated) {
      if (isPrimaryVideo) used.delete(`0:${videoSlot}`);
      const slot = (isPrimaryVideo && !used.has(`0:${videoSlot}`) ? videoSlot : freeSlotOnBus0(used, q35 ? 1 : 2)) ?? noSlots();
      used.add(`0:${slot}`);
      setAddress(dev, pciAddressElement({ domain: 0, bus: 0, slot, function: 0 }));
      continue;
    }
    const free = freeRootPorts(def);
    let bus = free[0];
    if (bus === undefined) {
      if (!options.allowNewPorts) noSlots();
      bus = addRootPort(def, used);
    }
    setAddress(dev, pciAddressElement({ domain: 0, bus, slot: 0, function: 0 }));
  }
}
