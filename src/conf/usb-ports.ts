/**
 * USB ports as QEMU gives them to a running domain's devices (domain_addr.c's USB address set):
 * a port tree per controller, hubs added when ports run out, the first free port per device.
 */
import { ErrorCode, virtError } from '../errors.js';
import { keepShape } from '../shared/keep-shape.js';
import { el, XmlElement } from '../xml/index.js';
import { setAddress } from './devices/common.js';
import { DomainDef } from './domain.js';

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
keepShape(new UsbAddressSet(new DomainDef(new XmlElement('domain'))));

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
