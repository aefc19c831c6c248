/**
 * What a device can plug into on a PCI bus, and what a bus accepts (libvirt's PCI connect flags):
 * a legacy PCI device, a PCI Express endpoint, or one of the PCI controllers, plus whether the slot
 * must support hot-plug and whether libvirt may pick the address itself.
 */
import type { XmlElement } from '../../xml/index.js';

export const Connect = {
  AUTOASSIGN: 1 << 0,
  HOTPLUGGABLE: 1 << 1,
  INTEGRATED: 1 << 2,
  AGGREGATE_SLOT: 1 << 3,
  PCI_DEVICE: 1 << 4,
  PCIE_DEVICE: 1 << 5,
  PCIE_ROOT_PORT: 1 << 6,
  PCIE_SWITCH_UPSTREAM_PORT: 1 << 7,
  PCIE_SWITCH_DOWNSTREAM_PORT: 1 << 8,
  DMI_TO_PCI_BRIDGE: 1 << 9,
  PCI_EXPANDER_BUS: 1 << 10,
  PCIE_EXPANDER_BUS: 1 << 11,
  PCI_BRIDGE: 1 << 12,
  PCIE_TO_PCI_BRIDGE: 1 << 13,
} as const;

/** Every "what plugs in" bit (the connection types, not the modifiers). */
export const CONNECT_TYPES = (1 << 14) - (1 << 4);
export const CONNECT_ENDPOINT = Connect.PCI_DEVICE | Connect.PCIE_DEVICE;

/** Flags a device of this kind of domain gets for plain PCI, PCIe and virtio devices. */
export interface ConnectContext {
  pci: number;
  pcie: number;
  virtio: number;
}

/** What a PCI controller model plugs into (its upstream side). 0 for the roots, which plug into nothing. */
export function pciControllerConnect(model: string | undefined): number {
  switch (model) {
    case 'pci-bridge':
      return Connect.PCI_BRIDGE;
    case 'pci-expander-bus':
      return Connect.PCI_EXPANDER_BUS;
    case 'pcie-expander-bus':
      return Connect.PCIE_EXPANDER_BUS;
    case 'dmi-to-pci-bridge':
      return Connect.DMI_TO_PCI_BRIDGE;
    case 'pcie-to-pci-bridge':
      return Connect.PCIE_TO_PCI_BRIDGE;
    case 'pcie-root-port':
      return Connect.PCIE_ROOT_PORT | Connect.AGGREGATE_SLOT;
    case 'pcie-switch-upstream-port':
      return Connect.PCIE_SWITCH_UPSTREAM_PORT;
    case 'pcie-switch-downstream-port':
      return Connect.PCIE_SWITCH_DOWNSTREAM_PORT;
    default:
      return 0;
  }
}

const transitional = (model: string | undefined, ctx: ConnectContext, otherwise: number): number =>
  model === 'virtio-transitional' ? ctx.pci : otherwise;

function controllerConnect(c: XmlElement, ctx: ConnectContext): number {
  const model = c.attr('model');
  switch (c.attr('type')) {
    case 'pci':
      return pciControllerConnect(model);
    case 'sata':
    case 'ide':
      return ctx.pci;
    case 'usb':
      if (model === 'nec-xhci' || model === 'qemu-xhci') return ctx.pcie;
      if (model === 'qusb1' || model === 'qusb2' || model === 'none') return 0;
      return ctx.pci;
    case 'scsi':
      if (model === undefined || model === 'ncr53c90') return 0;
      if (model === 'virtio-scsi' || model === 'virtio-non-transitional') return ctx.virtio;
      return ctx.pci;
    case 'virtio-serial':
      return transitional(model, ctx, ctx.virtio);
    default:
      return 0;
  }
}

/** Connect flags of a device element (qemuDomainDeviceCalculatePCIConnectFlags); 0 when it never uses PCI. */
export function deviceConnect(dev: XmlElement, ctx: ConnectContext): number {
  const model = dev.attr('model');
  switch (dev.name) {
    case 'controller':
      return controllerConnect(dev, ctx);
    case 'filesystem': {
      const driver = dev.child('driver')?.attr('type');
      if (driver === 'virtiofs') return ctx.virtio;
      if (driver === undefined || driver === 'path' || driver === 'handle') return transitional(model, ctx, ctx.virtio);
      return 0;
    }
    case 'interface': {
      const netModel = dev.child('model')?.attr('type');
      if (dev.attr('type') === 'hostdev' || netModel === 'usb-net') return 0;
      if (netModel === 'virtio' || netModel === 'virtio-non-transitional') return ctx.virtio;
      if (netModel === 'virtio-transitional') return ctx.pci;
      if (netModel === 'e1000e' || netModel === undefined) return ctx.pcie;
      return ctx.pci;
    }
    case 'sound':
      return model === 'es1370' || model === 'ac97' || model === 'ich6' || model === 'ich9' ? ctx.pci : 0;
    case 'disk':
      if (dev.child('target')?.attr('bus') !== 'virtio') return 0;
      return transitional(model, ctx, ctx.virtio);
    case 'hostdev':
      return hostdevConnect(dev, ctx);
    case 'memballoon':
      if (model === 'virtio' || model === 'virtio-non-transitional') return ctx.virtio;
      return model === 'virtio-transitional' ? ctx.pci : 0;
    case 'rng':
      return transitional(model, ctx, ctx.virtio);
    case 'watchdog':
      return model === 'i6300esb' ? ctx.pci : 0;
    case 'video':
      switch (dev.child('model')?.attr('type')) {
        case 'virtio':
          return ctx.virtio;
        case 'vga':
        case 'cirrus':
        case 'vmvga':
        case 'xen':
        case 'vbox':
        case 'qxl':
        case 'parallels':
          return ctx.pci;
        case 'bochs':
          return ctx.pcie;
        default:
          return 0;
      }
    case 'shmem':
      return ctx.pci;
    case 'input':
      return dev.attr('bus') === 'virtio' ? transitional(model, ctx, ctx.virtio) : 0;
    case 'serial':
      return dev.child('target')?.attr('type') === 'pci-serial' ? ctx.pci : 0;
    case 'iommu':
      return model === 'virtio' ? ctx.virtio | Connect.INTEGRATED : 0;
    case 'vsock':
      if (model === 'virtio' || model === 'virtio-non-transitional') return ctx.virtio;
      return model === 'virtio-transitional' ? ctx.pci : 0;
    case 'memory':
      return model === 'virtio-pmem' || model === 'virtio-mem' ? ctx.virtio : 0;
    default:
      return 0;
  }
}

function hostdevConnect(dev: XmlElement, ctx: ConnectContext): number {
  const type = dev.attr('type');
  const subsys = (dev.attr('mode') ?? 'subsystem') === 'subsystem';
  const mdev = subsys && type === 'mdev';
  if (!mdev && (!subsys || (type !== 'pci' && type !== 'scsi_host'))) return 0;
  if (ctx.pci === ctx.pcie) return ctx.pci;
  const a = dev.child('address');
  if (a?.attr('type') === 'pci') return ctx.pcie;
  if (mdev) return ctx.pcie;
  if (type === 'scsi_host') return transitional(dev.attr('model'), ctx, ctx.virtio);
  // A host PCI device: virtually all assignable devices are PCI Express.
  return ctx.pcie;
}
