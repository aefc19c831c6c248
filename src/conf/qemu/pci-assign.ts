/**
 * PCI addresses for a QEMU domain, in libvirt's order and with its bus growth
 * (qemuDomainAssignPCIAddresses): devices that name an address keep it; the chipset's own functions
 * are placed first (PIIX3 IDE/USB at 00:01.x, q35's SATA at 00:1f.2, the primary video card); then
 * devices get the first free slot by class — PCI controllers, filesystems, NICs, sound cards, other
 * controllers, virtio disks, host devices, balloon, RNGs, watchdog, video, shmem, virtio input, PCI
 * serials, IOMMU, vsock, memory. When a bus fills up, a dry run decides which pci-bridges or
 * pcie-root-ports to add, and q35 guests whose root ports were all added get one spare for hot-plug.
 */
import { ErrorCode, virtError } from '../../errors.js';
import { el, type XmlElement } from '../../xml/index.js';
import { pciAddressElement, pciAddressNumberOf, readPciAddress, type PciAddress } from '../address.js';
import { hasCap } from '../caps/machines.js';
import { CAP } from '../caps/flags.js';
import type { QemuCaps } from '../caps/types.js';
import type { DomainDef } from '../domain.js';
import { busOf, type PciAddressSet as AddressSet, PciAddressSet } from './pci-bus.js';
import { Connect, type ConnectContext, deviceConnect } from './pci-connect.js';
import { devicesInIterateOrder } from './iterate-order.js';
import { machineIsI440fx, machineIsQ35 } from './machine-kind.js';
import { own } from '../../shared/own.js';

/** A device and what it can plug into. */
interface Info {
  el: XmlElement;
  flags: number;
  /** present(el), read once while the address set is made (null: none). */
  addr?: PciAddress | null;
}

function addrOf(info: Info): PciAddress | undefined {
  if (info.addr === undefined) info.addr = present(info.el) ?? null;
  return info.addr ?? undefined;
}

const isEmpty = (a: PciAddress): boolean => a.domain === 0 && a.bus === 0 && a.slot === 0 && a.function === 0;

/** The device's PCI address, when it has a real (not all-zero) one. */
function present(dev: XmlElement): PciAddress | undefined {
  const a = readPciAddress(dev);
  return a && !isEmpty(a) ? a : undefined;
}

/** libvirt picks an address when there is none, or a PCI one of all zeros. */
function wanted(dev: XmlElement): boolean {
  return !dev.child('address') || pciAddressNumberOf(dev) === 0;
}

function setPci(dev: XmlElement, a: PciAddress): void {
  const old = dev.child('address');
  const next = pciAddressElement(a);
  if (old) {
    // Keep what sits inside the address (zpci) and its place among the device's children.
    next.children = old.children;
    dev.children[dev.children.indexOf(old)] = next;
    return;
  }
  const i = dev.children.findIndex((c) => c.kind === 'element' && c.name === 'acpi');
  if (i >= 0) dev.children.splice(i, 0, next);
  else dev.children.push(next);
}

const pciControllers = (def: DomainDef): XmlElement[] => def.peekNamed('controller').filter((c) => c.attr('type') === 'pci');
const index = (c: XmlElement): number => Number(c.attr('index') ?? 0);

/** The highest PCI controller index, -1 without any (a loop: Math.max(...spread) is slow in V8). */
function maxPciIndex(def: DomainDef): number {
  let max = -1;
  for (const c of pciControllers(def)) max = Math.max(max, index(c));
  return max;
}

export function rootModel(def: DomainDef): string | undefined {
  return pciControllers(def).find((c) => index(c) === 0)?.attr('model');
}

function connectContext(def: DomainDef, caps: QemuCaps | undefined): ConnectContext {
  const pci = Connect.PCI_DEVICE | Connect.AUTOASSIGN;
  const pcie = rootModel(def) === 'pcie-root' ? Connect.PCIE_DEVICE | Connect.AUTOASSIGN : pci;
  return { pci, pcie, virtio: hasCap(caps, CAP.VIRTIO_PCI_TRANSITIONAL) ? pcie : pci };
}

function infos(def: DomainDef, ctx: ConnectContext): Info[] {
  const out: Info[] = [];
  for (const e of devicesInIterateOrder(def)) {
    // A serial console is printed as a copy of its serial port: the port's address is the serial's.
    if (e.name === 'console') {
      const t = e.child('target')?.attr('type');
      if (t === undefined || t === 'serial') continue;
    }
    out.push({ el: e, flags: deviceConnect(e, ctx), addr: undefined });
  }
  return out;
}

const USB2 = new Set(['ich9-ehci1', 'ich9-uhci1', 'ich9-uhci2', 'ich9-uhci3']);

/** Builds the address set from the PCI controllers and the addresses devices already have (qemuDomainPCIAddressSetCreate). */
function createSet(def: DomainDef, caps: QemuCaps | undefined, nbuses: number, dryRun: boolean, list: Info[]): AddressSet {
  const buses = [];
  const controllers = pciControllers(def);
  const byIndex = new Map<number, XmlElement>();
  for (const c of controllers) byIndex.set(index(c), c);
  const hasPcieRoot = controllers.some((c) => c.attr('model') === 'pcie-root');
  for (let i = 0; i < nbuses; i++) {
    const c = byIndex.get(i);
    if (c) buses.push(busOf(c.attr('model') ?? '', c.child('target')?.attr('hotplug') !== 'off'));
    else if (i === 0) buses.push(busOf('pci-root'));
    else buses.push(busOf(hasPcieRoot ? 'pcie-root-port' : 'pci-bridge'));
  }
  const set = new PciAddressSet(buses, dryRun);
  set.pcieToPciBridge = hasCap(caps, CAP.PCIE_PCI_BRIDGE);
  for (const info of list) {
    const a = addrOf(info);
    if (!a) continue;
    // The PIIX3's IDE and USB functions are reserved with the chipset below.
    if (info.el.name === 'controller' && a.domain === 0 && a.bus === 0 && a.slot === 1) {
      const type = info.el.attr('type');
      const model = info.el.attr('model');
      const builtin =
        (type === 'ide' && index(info.el) === 0 && a.function === 1) ||
        (type === 'usb' && index(info.el) === 0 && (model === undefined || model === 'piix3-uhci') && a.function === 2);
      if (builtin) continue;
    }
    set.reserve(a, info.flags || Connect.PCI_DEVICE);
  }
  return set;
}

/** An address on bus 0; made whole (a property added to a spread copy, { ...at(s), multifunction }, is slow in V8). */
const at = (slot: number, fn = 0, multifunction?: string): PciAddress => ({ domain: 0, bus: 0, slot, function: fn, multifunction });

/** The PIIX3's fixed functions (IDE 1.1, USB 1.2, ISA 1.0, bridge 1.3) and the primary video card at slot 2. */
function placePiix3(def: DomainDef, set: AddressSet, list: Info[]): void {
  const flags = Connect.AUTOASSIGN | Connect.PCI_DEVICE;
  for (const c of def.peekNamed('controller')) {
    const type = c.attr('type');
    const model = c.attr('model');
    let want: PciAddress | undefined;
    if (type === 'ide' && index(c) === 0) want = at(1, 1);
    else if (type === 'usb' && index(c) === 0 && (model === undefined || model === 'piix3-uhci')) want = at(1, 2);
    if (!want) continue;
    const a = present(c);
    if (a) {
      if (a.bus !== 0 || a.slot !== 1 || a.function !== want.function || a.domain !== 0) {
        throw virtErrorInternal(type === 'ide' ? 'Primary IDE controller must have PCI address 0:0:1.1' : 'PIIX3 USB controller at index 0 must have PCI address 0:0:1.2');
      }
    } else setPci(c, want);
    if (set.buses.length) set.reserve(want, flags);
  }
  if (set.buses.length) {
    set.reserve(at(1, 0), flags);
    set.reserve(at(1, 3), flags);
  }
  placePrimaryVideo(def, set, list, 2, flags);
}

function placePrimaryVideo(def: DomainDef, set: AddressSet, list: Info[], slot: number, flags: number): void {
  const video = def.peekNamed('video')[0];
  const type = video?.child('model')?.attr('type');
  if (!video || type === 'none' || type === 'ramfb' || !wanted(video)) return;
  set.validate(at(slot), flags, true);
  if (set.slotInUse(at(slot))) {
    const info = list.find((i) => i.el === video)!;
    const a = set.reserveNext(info.flags);
    if (!set.dryRun) setPci(video, a);
  } else {
    set.reserve(at(slot), flags);
    setPci(video, at(slot));
  }
}

/** q35's fixed functions: SATA 1f.2, ISA 1f.0, SMBus 1f.3, USB2 companions at 1d/1a, the DMI bridge at 1e, video at 1, ICH9 audio at 1b. */
function placeQ35(def: DomainDef, set: AddressSet, list: Info[]): void {
  const flags = Connect.PCIE_DEVICE;
  for (const c of def.peekNamed('controller')) {
    const type = c.attr('type');
    if (type === 'sata' && index(c) === 0) {
      const a = present(c);
      if (a) {
        if (a.domain !== 0 || a.bus !== 0 || a.slot !== 0x1f || a.function !== 2) throw virtErrorInternal('Primary SATA controller must have PCI address 0:0:1f.2');
      } else setPci(c, at(0x1f, 2));
    } else if (type === 'usb' && c.attr('model') === 'ich9-uhci1' && !c.child('address')) {
      const slot = !set.slotInUse(at(0x1d)) ? 0x1d : !set.slotInUse(at(0x1a)) ? 0x1a : undefined;
      if (slot !== undefined) {
        set.reserve(at(slot), flags);
        setPci(c, at(slot, 0, 'on'));
      }
    } else if (type === 'pci' && c.attr('model') === 'dmi-to-pci-bridge' && !c.child('address')) {
      if (!set.slotInUse(at(0x1e))) {
        set.reserve(at(0x1e), flags);
        setPci(c, at(0x1e));
      }
    }
  }
  if (set.buses.length) {
    set.reserve(at(0x1f, 0), flags);
    set.reserve(at(0x1f, 3), flags);
  }
  placePrimaryVideo(def, set, list, 1, flags);
  if (!set.slotInUse(at(0x1b))) {
    const sound = def.peekNamed('sound').find((s) => s.attr('model') === 'ich9' && wanted(s));
    if (sound) {
      set.reserve(at(0x1b), flags);
      setPci(sound, at(0x1b));
    }
  }
}

function virtErrorInternal(message: string): Error {
  return virtError(ErrorCode.INTERNAL_ERROR, message);
}

function placeChipset(def: DomainDef, set: AddressSet, list: Info[]): void {
  const machine = def.machine;
  const arch = def.arch;
  if (machineIsI440fx(machine, arch)) placePiix3(def, set, list);
  else if (machineIsQ35(machine, arch)) placeQ35(def, set, list);
}

/** Gives a device the next free address (in a dry run only the slot is taken). */
function take(set: AddressSet, dev: XmlElement, flags: number): void {
  if (!flags) return;
  const a = set.reserveNext(flags);
  if (!set.dryRun) setPci(dev, a);
}

/** qemuDomainAssignDevicePCISlots: every device still without an address, by class. */
function assignSlots(def: DomainDef, set: AddressSet, ctx: ConnectContext): void {
  const named = (name: string): readonly XmlElement[] => def.peekNamed(name);
  const next = (e: XmlElement): void => {
    if (wanted(e)) take(set, e, deviceConnect(e, ctx));
  };
  const controllers = named('controller');
  for (const c of controllers) {
    const model = c.attr('model');
    if (c.attr('type') === 'pci' && model !== 'pci-root' && model !== 'pcie-root') next(c);
  }
  for (const f of named('filesystem')) next(f);
  for (const n of named('interface')) if (n.attr('type') !== 'hostdev') next(n);
  for (const s of named('sound')) {
    const m = s.attr('model');
    if (m !== 'sb16' && m !== 'pcspk' && m !== 'usb') next(s);
  }
  for (const c of controllers) {
    const type = c.attr('type');
    const model = c.attr('model');
    if (type === 'pci' || type === 'fdc' || type === 'ccid') continue;
    if (type === 'usb' && model === 'none') continue;
    if (type === 'ide' && index(c) === 0) continue;
    if (type === 'scsi' && model === 'ncr53c90') continue;
    if (!wanted(c)) continue;
    if (type === 'usb' && model !== undefined && USB2.has(model)) {
      placeUsb2(controllers, set, c, deviceConnect(c, ctx));
      continue;
    }
    take(set, c, deviceConnect(c, ctx));
  }
  for (const d of named('disk')) {
    if (d.child('target')?.attr('bus') !== 'virtio') continue;
    const type = d.child('address')?.attr('type');
    if (present(d) || type === 'ccw' || type === 'virtio-mmio') continue;
    if (!wanted(d)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `virtio disk cannot have an address of type '${type}'`);
    take(set, d, deviceConnect(d, ctx));
  }
  const hostdevs = [...named('interface').filter((n) => n.attr('type') === 'hostdev'), ...named('hostdev')];
  for (const h of hostdevs) {
    if (!wanted(h)) continue;
    if (h.name === 'hostdev') {
      if ((h.attr('mode') ?? 'subsystem') !== 'subsystem') continue;
      const type = h.attr('type');
      if (type !== 'pci' && type !== 'scsi_host' && !(type === 'mdev' && h.attr('model') === 'vfio-pci')) continue;
    }
    take(set, h, h.name === 'interface' ? hostdevFlags(def) : deviceConnect(h, ctx));
  }
  for (const m of named('memballoon')) if (m.attr('model') !== 'none') next(m);
  for (const r of named('rng')) next(r);
  for (const w of named('watchdog')) if (w.attr('model') === 'i6300esb') next(w);
  for (const v of named('video')) {
    const t = v.child('model')?.attr('type');
    if (t !== 'none' && t !== 'ramfb') next(v);
  }
  for (const s of named('shmem')) next(s);
  for (const i of named('input')) if (i.attr('bus') === 'virtio') next(i);
  for (const s of named('serial')) if (s.child('target')?.attr('type') === 'pci-serial') next(s);
  for (const i of named('iommu')) if (i.attr('model') === 'virtio') next(i);
  for (const v of named('vsock')) next(v);
  for (const m of named('memory')) {
    const model = m.attr('model');
    if (model === 'virtio-pmem' || model === 'virtio-mem') next(m);
  }
}

/** A NIC of type hostdev is a host PCI device (PCI Express on a PCIe guest). */
function hostdevFlags(def: DomainDef): number {
  return rootModel(def) === 'pcie-root' ? Connect.PCIE_DEVICE | Connect.AUTOASSIGN : Connect.PCI_DEVICE | Connect.AUTOASSIGN;
}

/** ICH9 USB2 controllers of one index share a slot: EHCI at function 7, UHCI1-3 at 0-2. */
function placeUsb2(controllers: readonly XmlElement[], set: AddressSet, c: XmlElement, flags: number): void {
  const model = c.attr('model');
  const fn = model === 'ich9-ehci1' ? 7 : model === 'ich9-uhci1' ? 0 : model === 'ich9-uhci2' ? 1 : 2;
  const multi = model === 'ich9-uhci1' ? 'on' : undefined;
  const sibling = controllers.find((o) => o.attr('type') === 'usb' && USB2.has(o.attr('model') ?? '') && index(o) === index(c) && present(o));
  if (sibling) {
    const a = { ...present(sibling)!, function: fn, multifunction: multi };
    set.reserve(a, flags);
    setPci(c, a);
    return;
  }
  const a = set.reserveNext(flags, fn);
  if (!set.dryRun) setPci(c, { domain: a.domain, bus: a.bus, slot: a.slot, function: a.function, multifunction: multi });
}

function addController(def: DomainDef, model: string, idx: number): XmlElement {
  const c = el('controller', { type: 'pci', index: idx, model });
  def.addDevice(c);
  return c;
}

/** Root-complex models: nothing to plug them into. */
const isRoot = (model: string | undefined): boolean => model === 'pci-root' || model === 'pcie-root';

export interface PciAssignOptions {
  caps: QemuCaps | undefined;
}

/**
 * Whether libvirt's dry run could add a bus. It cannot on a guest whose only bus is a pci-root when
 * every device plugs into it and all of them fit its slots 1-31 even one slot each, beside the PIIX3
 * (slot 1), the primary video card (slot 2) and the slot kept free for a bridge: then the dry run
 * adds nothing and the real run alone gives the same addresses.
 */
function mayGrow(def: DomainDef, list: Info[], nbuses: number): boolean {
  if (nbuses !== 1 || rootModel(def) !== 'pci-root' || list.length + 3 > SLOTS_ON_PCI_ROOT) return true;
  for (const info of list) {
    if (info.flags !== 0 && (info.flags & Connect.PCI_DEVICE) === 0) return true;
    const a = addrOf(info);
    if (a && (a.domain !== 0 || a.bus !== 0)) return true;
  }
  return false;
}

const SLOTS_ON_PCI_ROOT = 31;

/** Assigns every PCI address a define would (qemuDomainAssignPCIAddresses), adding the controllers it needs. */
export function assignPciAddresses(def: DomainDef, opts: PciAssignOptions): void {
  const { caps } = opts;
  const maxIdx = maxPciIndex(def);
  let nbuses = maxIdx + 1;
  let ctx = connectContext(def, caps);
  if (nbuses > 0) {
    const list = infos(def, ctx);
    if (!mayGrow(def, list, nbuses)) {
      const set = createSet(def, caps, nbuses, false, list);
      placeChipset(def, set, list);
      assignSlots(def, set, ctx);
      markMultifunction(def);
      for (const c of pciControllers(def)) controllerDefaults(def, c, caps);
      return;
    }
    const dry = createSet(def, caps, nbuses, true, list);
    placeChipset(def, dry, list);
    if (rootModel(def) === 'pci-root' && !dry.buses.every((b) => dry.isFullyReserved(b))) {
      // Keep one slot free for a bridge a later hot-plug may need.
      dry.reserveNext(Connect.AUTOASSIGN | Connect.PCI_DEVICE);
    }
    assignSlots(def, dry, ctx);
    if (maxIdx <= 0 && dry.buses.length > maxIdx + 1 && rootModel(def) === 'pcie-root') {
      // libvirt manages this guest's PCIe topology: leave one empty root port for hot-plug.
      dry.reserveNext(Connect.AUTOASSIGN | Connect.PCIE_DEVICE);
    }
    for (let i = 1; i < dry.buses.length; i++) {
      if (pciControllers(def).some((c) => index(c) === i)) continue;
      const model = dry.buses[i]!.model;
      const c = addController(def, model, i);
      ctx = connectContext(def, caps);
      const flags = deviceConnect(c, ctx);
      if (!isRoot(model)) dry.reserveNext(flags);
    }
    nbuses = dry.buses.length;
  }
  ctx = connectContext(def, caps);
  const list = infos(def, ctx);
  const set = createSet(def, caps, nbuses, false, list);
  placeChipset(def, set, list);
  assignSlots(def, set, ctx);
  markMultifunction(def);
  for (const c of pciControllers(def)) controllerDefaults(def, c, caps);
}

/** The device at function 0 of a slot whose other functions are in use gets multifunction='on' (unless set). */
function markMultifunction(def: DomainDef): void {
  const zero = new Map<number, XmlElement>();
  const multi = new Set<number>();
  for (const e of def.peekDevices()) {
    // 0 is the all-zero address, which is no address.
    const n = pciAddressNumberOf(e);
    if (n <= 0) continue;
    const key = Math.floor(n / 8);
    if (n % 8 === 0) {
      if (!zero.has(key)) zero.set(key, e);
    } else multi.add(key);
  }
  for (const key of multi) {
    const e = zero.get(key);
    const a = e?.child('address');
    if (a && !a.hasAttr('multifunction')) a.setAttr('multifunction', 'on');
  }
}

/** `<model name>`, chassis and port numbers libvirt fills in for PCI controllers. */
function controllerDefaults(def: DomainDef, c: XmlElement, caps: QemuCaps | undefined): void {
  const model = c.attr('model');
  const name = own(MODEL_NAMES, model) ?? (model === 'pcie-root-port' ? (hasCap(caps, CAP.PCIE_ROOT_PORT) ? 'pcie-root-port' : 'ioh3420') : undefined);
  if (name && !c.child('model')) insertFirst(c, el('model', { name }));
  const a = present(c);
  const idx = index(c);
  const target = (): XmlElement => {
    let t = c.child('target');
    if (!t) {
      t = el('target');
      const m = c.child('model');
      c.children.splice(m ? c.children.indexOf(m) + 1 : 0, 0, t);
    }
    return t;
  };
  if (model === 'pci-bridge' && !c.child('target')?.hasAttr('chassisNr')) target().setAttr('chassisNr', idx);
  if (model === 'pcie-root-port' && a) {
    const t = target();
    if (!t.hasAttr('chassis')) t.setAttr('chassis', idx);
    if (!t.hasAttr('port')) t.setAttr('port', `0x${((a.slot << 3) + a.function).toString(16)}`);
  }
  if ((model === 'pci-expander-bus' || model === 'pcie-expander-bus') && !c.child('target')?.hasAttr('busNr')) {
    // Below every bus number in use, leaving one for the expander's own bridge (qemuDomainAddressFindNewBusNr).
    let lowest = 256;
    for (const o of pciControllers(def)) {
      const n = o.child('target')?.attr('busNr');
      if (n !== undefined && Number(n) < lowest) lowest = Number(n);
    }
    if (lowest <= 2) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `No free busNr lower than current lowest busNr is available to auto-assign to bus ${a?.bus ?? 0}. Must be manually assigned`);
    target().setAttr('busNr', lowest - 2);
  }
  if (model === 'pcie-switch-downstream-port' && a) {
    const t = target();
    if (!t.hasAttr('chassis')) t.setAttr('chassis', idx);
    if (!t.hasAttr('port')) t.setAttr('port', `0x${a.slot.toString(16)}`);
  }
}

const MODEL_NAMES: Record<string, string> = {
  'pci-bridge': 'pci-bridge',
  'dmi-to-pci-bridge': 'i82801b11-bridge',
  'pcie-to-pci-bridge': 'pcie-pci-bridge',
  'pcie-switch-upstream-port': 'x3130-upstream',
  'pcie-switch-downstream-port': 'xio3130-downstream',
  'pci-expander-bus': 'pxb',
  'pcie-expander-bus': 'pxb-pcie',
};

function insertFirst(parent: XmlElement, child: XmlElement): void {
  parent.children.unshift(child);
}

/**
 * A live attach's PCI address (qemuDomainEnsurePCIAddress): a hot-pluggable slot on the buses the
 * guest has; an address the device names is checked and taken, none left is "No more available PCI slots".
 */
export function ensurePciAddress(def: DomainDef, dev: XmlElement, caps: QemuCaps | undefined): void {
  const ctx = connectContext(def, caps);
  const flags = deviceConnect(dev, ctx);
  if (!flags) return;
  const nbuses = maxPciIndex(def) + 1;
  const others = infos(def, ctx).filter((i) => i.el !== dev);
  const set = createSet(def, caps, nbuses, false, others);
  placeChipset(def, set, others);
  const want = flags | Connect.HOTPLUGGABLE;
  const a = present(dev);
  if (a) {
    if (a.function !== 0) throw virtError(ErrorCode.INTERNAL_ERROR, 'Only PCI device addresses with function=0 are supported');
    set.validate(a, want, true);
    set.reserve(a, want);
    setPci(dev, a);
    return;
  }
  if (wanted(dev)) setPci(dev, set.reserveNext(want));
}
