/**
 * Devices QEMU domains have whether or not the XML lists them, which libvirt
 * therefore adds at define time: the PCI root, the chipset's IDE/SATA and USB
 * controllers, PS/2 input, the balloon, the controllers disks and channels need.
 */
import { el, type XmlElement } from '../xml/index.js';
import { driveAddressElement, pciAddressElement } from './address.js';
import { setAddress } from './devices/common.js';
import { diskNameToIndex } from './disk-names.js';
import type { DomainDef } from './domain.js';
import { isQ35, isX86 } from './pci.js';

function addController(def: DomainDef, attrs: Record<string, string | number | undefined>, address?: XmlElement): XmlElement {
  const c = el('controller', attrs);
  if (address) c.append(address);
  def.addDevice(c);
  return c;
}

/** Drive address of a disk on an addressed bus, from its target index (virDiskNameToBusDeviceIndex). */
function assignDriveAddress(disk: XmlElement): void {
  if (disk.child('address')) return;
  const target = disk.child('target');
  const bus = target?.attr('bus');
  const idx = diskNameToIndex(target?.attr('dev') ?? '');
  if (idx === undefined) return;
  if (bus === 'ide') setAddress(disk, driveAddressElement({ controller: Math.floor(idx / 4), bus: Math.floor(idx / 2) % 2, target: 0, unit: idx % 2 }));
  else if (bus === 'scsi') setAddress(disk, driveAddressElement({ controller: Math.floor(idx / 7), bus: 0, target: 0, unit: idx % 7 }));
  else if (bus === 'sata') setAddress(disk, driveAddressElement({ controller: Math.floor(idx / 6), bus: 0, target: 0, unit: idx % 6 }));
  else if (bus === 'fdc') setAddress(disk, driveAddressElement({ controller: 0, bus: 0, target: 0, unit: idx % 2 }));
}

/** Adds the controllers a device needs (its drive controller, virtio-serial) and its drive address. */
export function addControllersFor(def: DomainDef, dev: XmlElement): void {
  if (dev.name === 'disk') {
    assignDriveAddress(dev);
    const bus = dev.child('target')?.attr('bus');
    const a = dev.child('address');
    const ctrl = a?.attr('type') === 'drive' ? Number(a.attr('controller') ?? 0) : 0;
    const type = bus === 'scsi' ? 'scsi' : bus === 'ide' ? 'ide' : bus === 'sata' ? 'sata' : bus === 'fdc' ? 'fdc' : undefined;
    if (type && !def.hasController(type, ctrl)) {
      for (let i = 0; i <= ctrl; i++) {
        if (def.hasController(type, i)) continue;
        // The chipset's own IDE controller (PIIX3, 00:01.1) is the one the first IDE disk lands on.
        const builtin = type === 'ide' && i === 0 && !isQ35(def) ? pciAddressElement({ domain: 0, bus: 0, slot: 1, function: 1 }) : undefined;
        addController(def, { type, index: i, model: type === 'scsi' ? 'lsilogic' : undefined }, builtin);
      }
    }
  }
  const target = dev.child('target');
  const isVirtioChr = (dev.name === 'channel' || dev.name === 'console') && target?.attr('type') === 'virtio';
  if (isVirtioChr && !def.hasController('virtio-serial')) addController(def, { type: 'virtio-serial', index: 0 });
  if (dev.name === 'channel' && target?.attr('type') === 'virtio' && !dev.child('address')) {
    const ports = def
      .deviceElements()
      .map((e) => e.child('address'))
      .filter((a) => a?.attr('type') === 'virtio-serial')
      .map((a) => Number(a!.attr('port') ?? 0));
    setAddress(dev, el('address', { type: 'virtio-serial', controller: 0, bus: 0, port: Math.max(0, ...ports) + 1 }));
  }
}

/** Fills a serial's target and pairs serial 0 with a console, as libvirt does for x86 guests. */
function pairSerialConsole(def: DomainDef): void {
  const devs = def.devicesElement();
  for (const s of devs.elements('serial')) {
    if (!s.child('target')) s.insertOrdered(el('target', { type: 'isa-serial', port: 0 }, el('model', { name: 'isa-serial' })), ['source', 'log', 'protocol', 'target', 'alias', 'address']);
  }
  const serial = devs.child('serial');
  const console = devs.child('console');
  const serialType = serial?.child('target')?.attr('type');
  // Only a real UART doubles as the console; debugcon and friends do not.
  if (serial && !console && (serialType === undefined || serialType === 'isa-serial')) {
    const copy = el('console', { type: serial.attr('type') ?? 'pty' });
    for (const c of serial.elements()) if (c.name !== 'target' && c.name !== 'alias' && c.name !== 'address') copy.append(c.clone());
    copy.append(el('target', { type: 'serial', port: 0 }));
    def.addDevice(copy);
  }
}

/** Adds QEMU's implicit devices to an x86 (pc/q35) domain definition. */
export function addImplicitQemuDevices(def: DomainDef): void {
  if (!isX86(def)) return;
  const q35 = isQ35(def);
  // libvirt's insertion order: USB, the chipset's disk controller, what devices need, the PCI root last.
  // PIIX3's USB function is always there; on q35 libvirt picks a USB model from QEMU's capabilities, which a
  // driver without QEMU cannot know, so none is invented. The IDE controller appears with the first IDE disk.
  if (!q35 && !def.hasController('usb')) {
    addController(def, { type: 'usb', index: 0 }, pciAddressElement({ domain: 0, bus: 0, slot: 1, function: 2 }));
  }
  if (q35 && !def.hasController('sata', 0)) {
    addController(def, { type: 'sata', index: 0 }, pciAddressElement({ domain: 0, bus: 0, slot: 0x1f, function: 2 }));
  }
  for (const dev of def.deviceElements()) addControllersFor(def, dev);
  if (!def.hasController('pci', 0)) {
    addController(def, { type: 'pci', index: 0, model: q35 ? 'pcie-root' : 'pci-root' });
  }
  pairSerialConsole(def);
  const inputs = def.devicesElement().elements('input');
  if (!inputs.some((i) => i.attr('type') === 'mouse' && i.attr('bus') === 'ps2')) def.addDevice(el('input', { type: 'mouse', bus: 'ps2' }));
  if (!inputs.some((i) => i.attr('type') === 'keyboard' && i.attr('bus') === 'ps2')) def.addDevice(el('input', { type: 'keyboard', bus: 'ps2' }));
  if (def.devicesElement().elements('graphics').length > 0 && !def.devicesElement().child('video')) {
    def.addDevice(el('video', {}, el('model', { type: q35 ? 'vga' : 'cirrus', vram: 16384, heads: 1, primary: 'yes' })));
  }
  if (!def.devicesElement().child('memballoon')) def.addDevice(el('memballoon', { model: 'virtio' }));
}
