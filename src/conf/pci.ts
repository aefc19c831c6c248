/**
 * PCI address assignment for QEMU-style domains (x86 pc and q35), modelled on
 * libvirt's qemu_domain_address.c: fixed slots for the built-in chipset
 * functions, then the first free slot per device; on q35 every endpoint sits
 * behind its own pcie-root-port. Also the USB ports a running domain's devices
 * take (domain_addr.c's USB address set).
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

// ---- USB ports (domain_addr.c's USB address set) ----------------------------------------------

/** Ports of a `<hub type='usb'>` (VIR_DOMAIN_USB_HUB_PORTS) and the deepest port path (VIR_DOMAIN_DEVICE_USB_MAX_PORT_DEPTH). */
const USB_HUB_PORTS = 8;
const USB_MAX_PORT_DEPTH = 4;

/** Ports a USB controller provides (virDomainUSBAddressControllerModelToPorts); 0 for ICH9 UHCI companions and 'none'. */
function usbControllerPorts(c: XmlElement): number {
  const ports = c.attr('ports') === undefined ? undefined : Number(c.attr('ports'));
  switch (c.attr('model')) {
    case undefined:
    case 'piix3-uhci':
    case 'piix4-uhci':
    case 'vt82c686b-uhci':
      return 2;
    case 'ehci':
    case 'ich9-ehci1':
      return 6;
    case 'pci-ohci':
      return 3;
    case 'nec-xhci':
    case 'qemu-xhci':
      return ports ?? 4;
    case 'qusb1':
    case 'qusb2':
      return ports ?? 8;
    default:
      return 0;
  }
}

/** The devices libvirt puts on USB ports, in the order it gives them ports (virDomainUSBDeviceDefForeach). */
const USB_ORDER = ['hub', 'hostdev', 'disk', 'controller', 'input', 'serial', 'sound', 'redirdev'];

function isUsbDevice(d: XmlElement): boolean {
  switch (d.name) {
    case 'hub':
      return d.attr('type') === 'usb';
    case 'hostdev':
      return (d.attr('mode') ?? 'subsystem') === 'subsystem' && d.attr('type') === 'usb';
    case 'disk':
      return d.child('target')?.attr('bus') === 'usb';
    case 'controller':
      return d.attr('type') === 'ccid';
    case 'input':
      return d.attr('bus') === 'usb';
    case 'serial':
      return d.child('target')?.attr('type') === 'usb-serial';
    case 'sound':
      return d.attr('model') === 'usb';
    case 'redirdev':
      return d.attr('bus') === 'usb';
    default:
      return false;
  }
}

/** `<address type='usb' bus='0' port='1.2'/>` as bus and port path; path undefined when the port is absent or invalid. */
function readUsbAddress(d: XmlElement): { bus: number; path?: number[] } | undefined {
  const a = d.child('address');
  if (a?.attr('type') !== 'usb') return undefined;
  const bus = Number(a.attr('bus') ?? 0);
  const port = a.attr('port');
  const path = port?.split('.').map(Number);
  const valid = path !== undefined && path.length <= USB_MAX_PORT_DEPTH && path.every((p) => Number.isInteger(p) && p >= 1);
  return { bus: Number.isInteger(bus) ? bus : 0, path: valid ? path : undefined };
}

interface UsbHub {
  taken: boolean[];
  hubs: (UsbHub | undefined)[];
}

const newHub = (ports: number): UsbHub => ({ taken: new Array<boolean>(ports).fill(false), hubs: new Array<UsbHub | undefined>(ports).fill(undefined) });

/** The USB topology of a domain: a port tree per controller index, with the ports in use. */
class UsbAddressSet {
  readonly buses = new Map<number, UsbHub>();

  constructor(def: DomainDef) {
    const controllers = def.elementsNamed('controller').filter((c) => c.attr('type') === 'usb');
    for (const c of controllers) {
      const ports = usbControllerPorts(c);
      const index = Number(c.attr('index') ?? 0);
      if (ports > 0 && !this.buses.has(index)) this.buses.set(index, newHub(ports));
    }
    // Hubs with an address first (their ports exist before anything sits on them), then everything else.
    const devices = def.deviceElements().filter(isUsbDevice);
    for (const d of devices.filter((e) => e.name === 'hub')) this.#take(d, true);
    for (const d of devices.filter((e) => e.name !== 'hub')) this.#take(d, false);
  }

  #take(d: XmlElement, isHub: boolean): void {
    const a = readUsbAddress(d);
    if (!a?.path) return;
    let hub = this.buses.get(a.bus);
    for (const p of a.path.slice(0, -1)) hub = hub?.hubs[p - 1];
    const i = a.path[a.path.length - 1]! - 1;
    if (!hub || i >= hub.taken.length) return;
    hub.taken[i] = true;
    if (isHub) hub.hubs[i] ??= newHub(USB_HUB_PORTS);
  }

  /** virDomainUSBAddressFindFreePort: a free port on this hub, else on the hubs plugged into it. */
  #free(hub: UsbHub, level: number): number[] | undefined {
    const i = hub.taken.indexOf(false);
    if (i >= 0) return [i + 1];
    if (level >= USB_MAX_PORT_DEPTH - 1) return undefined;
    for (let p = 0; p < hub.hubs.length; p++) {
      const below = hub.hubs[p] && this.#free(hub.hubs[p]!, level + 1);
      if (below) return [p + 1, ...below];
    }
    return undefined;
  }

  /** Gives `d` the first free port (of its requested bus, else of any bus in index order); false when there is none. */
  assign(d: XmlElement): boolean {
    const wanted = readUsbAddress(d);
    const buses = wanted ? [wanted.bus] : [...this.buses.keys()].sort((x, y) => x - y);
    for (const bus of buses) {
      const hub = this.buses.get(bus);
      const path = hub && this.#free(hub, 0);
      if (!path) continue;
      setAddress(d, el('address', { type: 'usb', bus, port: path.join('.') }));
      this.#take(d, d.name === 'hub');
      return true;
    }
    return false;
  }
}

const needsUsbPort = (d: XmlElement): boolean => isUsbDevice(d) && (d.child('address') === undefined || (readUsbAddress(d) !== undefined && !readUsbAddress(d)!.path));

/**
 * USB ports as a QEMU start gives them (qemuDomainAssignUSBAddresses of a new domain): when the USB
 * devices outnumber the ports, `<hub type='usb'>`s are added; then hubs, and then the other devices in
 * libvirt's order, take the first free port. With `only` (a live attach, virDomainUSBAddressEnsure)
 * just those devices get one, and a full bus is "No free USB ports". A domain without any USB bus
 * (a q35 domain, where virtkit invents no controller) is left as it is.
 */
export function assignUsbPorts(def: DomainDef, only?: XmlElement[]): void {
  if (!only) {
    const count = def.deviceElements().filter(isUsbDevice).length;
    const controllers = def.elementsNamed('controller').filter((c) => c.attr('type') === 'usb');
    const available =
      controllers.reduce((n, c) => n + usbControllerPorts(c), 0) + def.elementsNamed('hub').filter((h) => h.attr('type') === 'usb').length * USB_HUB_PORTS;
    if (available > 0 && count > available) {
      const hubs = Math.ceil((count - available + 1) / (USB_HUB_PORTS - 1));
      for (let i = 0; i < hubs; i++) def.addDevice(el('hub', { type: 'usb' }));
    }
  }
  const set = new UsbAddressSet(def);
  if (set.buses.size === 0) return;
  const candidates = (only ?? def.deviceElements()).filter(needsUsbPort);
  candidates.sort((a, b) => USB_ORDER.indexOf(a.name) - USB_ORDER.indexOf(b.name));
  for (const d of candidates) {
    if (!set.assign(d) && only) throw virtError(ErrorCode.INTERNAL_ERROR, 'No free USB ports');
  }
}
