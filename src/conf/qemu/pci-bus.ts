/**
 * The PCI address set of one domain (libvirt's virDomainPCIAddressSet): one entry per bus with what it
 * accepts and which functions of which slots are taken. A "dry run" set grows new buses (bridges,
 * root ports) when a device finds no free slot; a real set reports "No more available PCI slots".
 */
import { ErrorCode, virtError } from '../../errors.js';
import { formatPciAddress, type PciAddress } from '../address.js';
import { CONNECT_ENDPOINT, CONNECT_TYPES, Connect } from './pci-connect.js';
import { keepShape } from '../../shared/keep-shape.js';

const SLOT_LAST = 31;

export interface PciBus {
  model: string;
  /** What may plug into this bus. */
  flags: number;
  minSlot: number;
  maxSlot: number;
  /** Bitmask of taken functions per slot. */
  functions: number[];
  /** Slot shared by several devices (root ports grouped on one slot as its functions). */
  aggregate: boolean[];
}

/** A bus as a controller model makes it (virDomainPCIAddressBusSetModel). */
export function busOf(model: string, hotplug = true): PciBus {
  const hp = hotplug ? Connect.HOTPLUGGABLE : 0;
  const C = Connect;
  let flags: number;
  let minSlot = 0;
  let maxSlot = SLOT_LAST;
  switch (model) {
    case 'pci-root':
      flags = C.AUTOASSIGN | C.PCI_DEVICE | C.PCI_BRIDGE | C.PCI_EXPANDER_BUS | hp;
      minSlot = 1;
      break;
    case 'pci-bridge':
    case 'pcie-to-pci-bridge':
      flags = C.AUTOASSIGN | C.PCI_DEVICE | C.PCI_BRIDGE | hp;
      minSlot = 1;
      break;
    case 'pci-expander-bus':
      flags = C.AUTOASSIGN | C.PCI_DEVICE | C.PCI_BRIDGE | hp;
      break;
    case 'pcie-root':
      flags = C.PCIE_DEVICE | C.PCIE_ROOT_PORT | C.DMI_TO_PCI_BRIDGE | C.PCIE_EXPANDER_BUS;
      minSlot = 1;
      break;
    case 'dmi-to-pci-bridge':
      flags = C.PCI_DEVICE | C.PCI_BRIDGE;
      break;
    case 'pcie-root-port':
    case 'pcie-switch-downstream-port':
      flags = C.AUTOASSIGN | C.PCIE_DEVICE | C.PCIE_SWITCH_UPSTREAM_PORT | C.PCIE_TO_PCI_BRIDGE | hp;
      maxSlot = 0;
      break;
    case 'pcie-switch-upstream-port':
      flags = C.PCIE_SWITCH_DOWNSTREAM_PORT;
      break;
    case 'pcie-expander-bus':
      flags = C.PCIE_ROOT_PORT | C.DMI_TO_PCI_BRIDGE;
      break;
    default:
      throw virtError(ErrorCode.INTERNAL_ERROR, 'PCI controller model was not set correctly');
  }
  return { model, flags, minSlot, maxSlot, functions: new Array<number>(SLOT_LAST + 1).fill(0), aggregate: new Array<boolean>(SLOT_LAST + 1).fill(false) };
}

const CONNECT_NAMES: [number, string][] = [
  [Connect.PCI_DEVICE, 'standard PCI device'],
  [Connect.PCIE_DEVICE, 'PCI Express device'],
  [Connect.PCIE_ROOT_PORT, 'pcie-root-port'],
  [Connect.PCIE_SWITCH_UPSTREAM_PORT, 'pcie-switch-upstream-port'],
  [Connect.PCIE_SWITCH_DOWNSTREAM_PORT, 'pcie-switch-downstream-port'],
  [Connect.DMI_TO_PCI_BRIDGE, 'dmi-to-pci-bridge'],
  [Connect.PCIE_TO_PCI_BRIDGE, 'pcie-to-pci-bridge'],
  [Connect.PCI_EXPANDER_BUS, 'pci-expander-bus'],
  [Connect.PCIE_EXPANDER_BUS, 'pcie-expander-bus'],
  [Connect.PCI_BRIDGE, 'pci-bridge'],
];

const MODEL_FOR_CONNECT: [number, string][] = [
  [Connect.PCIE_ROOT_PORT, 'pcie-root-port'],
  [Connect.PCIE_SWITCH_UPSTREAM_PORT, 'pcie-switch-upstream-port'],
  [Connect.PCIE_SWITCH_DOWNSTREAM_PORT, 'pcie-switch-downstream-port'],
  [Connect.DMI_TO_PCI_BRIDGE, 'dmi-to-pci-bridge'],
  [Connect.PCI_EXPANDER_BUS, 'pci-expander-bus'],
  [Connect.PCIE_EXPANDER_BUS, 'pcie-expander-bus'],
  [Connect.PCI_BRIDGE, 'pci-bridge'],
];

export class PciAddressSet {
  readonly buses: PciBus[];
  readonly dryRun: boolean;
  /** QEMU has pcie-to-pci-bridge: a PCI device on a PCIe-only guest gets one (else dmi-to-pci-bridge). */
  pcieToPciBridge = false;

  constructor(buses: PciBus[], dryRun: boolean) {
    this.buses = buses;
    this.dryRun = dryRun;
  }

  /** Whether a device with `dev` flags may use `addr` on a bus accepting `busFlags`; an error message when not. */
  #compatible(addr: PciAddress, busFlags: number, dev: number, fromConfig: boolean): string | undefined {
    if (dev & Connect.INTEGRATED) {
      if (addr.bus !== 0) return `The device at PCI address ${formatPciAddress(addr)} needs to be an integrated device (bus=0)`;
      busFlags |= Connect.AUTOASSIGN;
    }
    if (fromConfig) {
      // An address the user wrote may put a PCI device in a PCIe slot and vice versa.
      if (busFlags & CONNECT_ENDPOINT) busFlags |= CONNECT_ENDPOINT;
      if (dev & Connect.PCI_BRIDGE) dev |= Connect.PCI_DEVICE;
    } else if (dev & Connect.AUTOASSIGN && !(busFlags & Connect.AUTOASSIGN)) {
      return `The device at PCI address ${formatPciAddress(addr)} was auto-assigned this address, but the PCI controller with index='${addr.bus}' doesn't allow auto-assignment`;
    }
    if (dev & Connect.HOTPLUGGABLE && !(busFlags & Connect.HOTPLUGGABLE)) {
      return `The device at PCI address ${formatPciAddress(addr)} requires hotplug capability, but the PCI controller with index='${addr.bus}' doesn't support hotplug`;
    }
    if (!(dev & busFlags & CONNECT_TYPES)) {
      const kind = CONNECT_NAMES.find(([bit]) => dev & bit)?.[1];
      if (!kind) return `The device at PCI address ${formatPciAddress(addr)} has unrecognized connection type flags 0x${(dev & CONNECT_TYPES).toString(16).padStart(2, '0')}`;
      return `The device at PCI address ${formatPciAddress(addr)} cannot be plugged into the PCI controller with index='${addr.bus}'. It requires a controller that accepts a ${kind}.`;
    }
    return undefined;
  }

  /** Checks an address against the bus it names (virDomainPCIAddressValidate); throws on a mismatch. */
  validate(addr: PciAddress, flags: number, fromConfig: boolean): void {
    const code = fromConfig ? ErrorCode.XML_ERROR : ErrorCode.INTERNAL_ERROR;
    if (this.buses.length === 0) throw virtError(code, 'No PCI buses available');
    if (addr.domain !== 0) throw virtError(code, `Invalid PCI address ${formatPciAddress(addr)}. Only PCI domain 0 is available`);
    if (addr.bus >= this.buses.length) throw virtError(code, `Invalid PCI address ${formatPciAddress(addr)}. Only PCI buses up to ${this.buses.length - 1} are available`);
    const bus = this.buses[addr.bus]!;
    const bad = this.#compatible(addr, bus.flags, flags, fromConfig);
    if (bad) throw virtError(code, bad);
    if (bus.minSlot && addr.slot < bus.minSlot) throw virtError(code, `Invalid PCI address ${formatPciAddress(addr)}. slot must be >= ${bus.minSlot}`);
    if (addr.slot > bus.maxSlot) throw virtError(code, `Invalid PCI address ${formatPciAddress(addr)}. slot must be <= ${bus.maxSlot}`);
    if (addr.function > 7) throw virtError(code, `Invalid PCI address ${formatPciAddress(addr)}. function must be <= 7`);
  }

  slotInUse(addr: PciAddress): boolean {
    return (this.buses[addr.bus]?.functions[addr.slot] ?? 0) !== 0;
  }

  isFullyReserved(bus: PciBus): boolean {
    for (let s = bus.minSlot; s <= bus.maxSlot; s++) if (!bus.functions[s]) return false;
    return true;
  }

  /** Marks one function of a slot taken (virDomainPCIAddressReserveAddr); a dry run first grows the set to reach it. */
  reserve(addr: PciAddress, flags: number, fromConfig = true): void {
    if (this.dryRun) this.#grow(addr, flags);
    this.validate(addr, flags, fromConfig);
    const bus = this.buses[addr.bus]!;
    if (bus.functions[addr.slot]! & (1 << addr.function)) {
      throw virtError(fromConfig ? ErrorCode.XML_ERROR : ErrorCode.INTERNAL_ERROR, `Attempted double use of PCI Address ${formatPciAddress(addr)}`);
    }
    if (!bus.functions[addr.slot] && flags & Connect.AGGREGATE_SLOT) bus.aggregate[addr.slot] = true;
    bus.functions[addr.slot]! |= 1 << addr.function;
  }

  /** A free function on `bus` from `addr.slot` on (virDomainPCIAddressFindUnusedFunctionOnBus); updates addr in place. */
  #findOnBus(bus: PciBus, addr: PciAddress, fn: number, flags: number): boolean {
    if (this.#compatible(addr, bus.flags, flags, false)) return false;
    for (; addr.slot <= bus.maxSlot; addr.slot++) {
      const used = bus.functions[addr.slot]!;
      if (used === 0) return true;
      if (flags & Connect.AGGREGATE_SLOT && bus.aggregate[addr.slot]) {
        if ((used & (1 << addr.function)) === 0) return true;
        if (fn === -1) {
          for (; addr.function < 8; addr.function++) if ((used & (1 << addr.function)) === 0) return true;
          addr.function = 0;
        }
      }
    }
    return false;
  }

  /** The next free address for a device (virDomainPCIAddressGetNextAddr); a dry run adds a bus when none is left. */
  nextAddr(flags: number, fn = -1): PciAddress {
    if (this.buses.length === 0) throw virtError(ErrorCode.XML_ERROR, 'No PCI buses available');
    const a: PciAddress = { domain: 0, bus: 0, slot: 0, function: fn === -1 ? 0 : fn };
    for (a.bus = 0; a.bus < this.buses.length; a.bus++) {
      const bus = this.buses[a.bus]!;
      a.slot = bus.minSlot;
      if (this.#findOnBus(bus, a, fn, flags)) return a;
    }
    if (this.dryRun) {
      this.#grow(a, flags);
      a.slot = this.buses[a.bus]!.minSlot;
      return a;
    }
    throw virtError(ErrorCode.INTERNAL_ERROR, 'No more available PCI slots');
  }

  /** Finds and takes the next free address (virDomainPCIAddressReserveNextAddr). */
  reserveNext(flags: number, fn = -1): PciAddress {
    const a = this.nextAddr(flags, fn);
    this.reserve(a, flags, false);
    return a;
  }

  /** Adds the buses needed for `addr` to exist, choosing controllers for the device's flags (virDomainPCIAddressSetGrow). */
  #grow(addr: PciAddress, flags: number): void {
    let add = addr.bus - this.buses.length + 1;
    if (add <= 0) return;
    let model: string;
    let dmi = false;
    let pcieToPci = false;
    if (flags & Connect.PCI_DEVICE) {
      model = 'pci-bridge';
      // A PCIe-only guest first needs somewhere to plug a pci-bridge into.
      const hasBridgeSlot = this.buses.some((b) => b.flags & Connect.PCI_BRIDGE);
      if (!hasBridgeSlot) {
        if (this.pcieToPciBridge) pcieToPci = true;
        else dmi = true;
        if (add === 1) {
          add++;
          addr.bus++;
        }
      }
    } else if (flags & (Connect.PCIE_DEVICE | Connect.PCIE_SWITCH_UPSTREAM_PORT)) {
      model = 'pcie-root-port';
    } else {
      const existing = MODEL_FOR_CONNECT.find(([bit]) => flags & bit)?.[1];
      if (existing) {
        throw virtError(ErrorCode.INTERNAL_ERROR, `a PCI slot is needed to connect a PCI controller model='${existing}', but none is available, and it cannot be automatically added`);
      }
      throw virtError(ErrorCode.INTERNAL_ERROR, `Cannot automatically add a new PCI bus for a device with connect flags ${flags.toString(16).padStart(2, '0')}`);
    }
    for (let i = 0; i < add; i++) {
      if (i === 0 && dmi) this.buses.push(busOf('dmi-to-pci-bridge', false));
      else if (i === 0 && pcieToPci) {
        // This root port only takes the pcie-to-pci-bridge, so the spare hot-plug port stays a separate one.
        const port = busOf('pcie-root-port');
        port.flags = Connect.PCIE_TO_PCI_BRIDGE;
        this.buses.push(port);
      } else if (i === 1 && pcieToPci) this.buses.push(busOf('pcie-to-pci-bridge'));
      else this.buses.push(busOf(model));
    }
  }
}
keepShape(new PciAddressSet([], false));
