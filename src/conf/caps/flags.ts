/**
 * The capability names define-time defaults consult (libvirt's names, as in caps_*.xml), and for a
 * probe of a real binary, the QOM type whose presence in `qom-list-types` implies each device flag.
 */

export const CAP = {
  /** KVM was usable when probing / TCG accelerator present. */
  KVM: 'kvm',
  TCG: 'tcg',
  // USB controllers (default model per machine: qemu-xhci > nec-xhci > ich9-ehci1 on q35, piix3-uhci on pc).
  PIIX3_USB_UHCI: 'piix3-usb-uhci',
  QEMU_XHCI: 'qemu-xhci',
  NEC_USB_XHCI: 'nec-usb-xhci',
  ICH9_USB_EHCI1: 'ich9-usb-ehci1',
  PCI_OHCI: 'pci-ohci',
  USB_HUB: 'usb-hub',
  // PCI controllers libvirt adds (root ports on q35, bridges when a bus is full).
  PCIE_ROOT_PORT: 'pcie-root-port',
  IOH3420: 'ioh3420',
  PCI_BRIDGE: 'pci-bridge',
  DMI_TO_PCI_BRIDGE: 'dmi-to-pci-bridge',
  PCIE_PCI_BRIDGE: 'pcie-pci-bridge',
  X3130_UPSTREAM: 'x3130-upstream',
  XIO3130_DOWNSTREAM: 'xio3130-downstream',
  PXB: 'pxb',
  PXB_PCIE: 'pxb-pcie',
  GPEX: 'gpex-pcihost',
  // Default models of SCSI controllers, video cards and NICs.
  SCSI_LSI: 'lsi',
  VIRTIO_SCSI: 'virtio-scsi-pci',
  CIRRUS_VGA: 'cirrus-vga',
  VGA: 'VGA',
  QXL: 'qxl',
  VIRTIO_VGA: 'virtio-vga',
  VIRTIO_GPU: 'virtio-gpu',
  RTL8139: 'rtl8139',
  E1000: 'e1000',
  VIRTIO_NET: 'virtio-net',
  // Other facts the defaults read.
  VIRTIO_PCI_TRANSITIONAL: 'virtio-pci-non-transitional',
  CPU_MIGRATABLE: 'cpu.migratable',
  ICH9_AHCI: 'ich9-ahci',
  ISA_SERIAL: 'isa-serial',
  VIRTIO_MMIO: 'virtio-mmio',
  ZPCI: 'zpci',
} as const;

export type CapName = (typeof CAP)[keyof typeof CAP];

/**
 * QOM type → capability, for the device flags above: a probe lists `qom-list-types` and sets the flag
 * of every type present (several types may imply one flag). `kvm`/`tcg` come from query-kvm and the
 * accelerators, `cpu.migratable` from the CPU properties, not from this table.
 */
export const QOM_TYPE_CAPS: Readonly<Record<string, CapName>> = {
  'piix3-usb-uhci': CAP.PIIX3_USB_UHCI,
  'qemu-xhci': CAP.QEMU_XHCI,
  'nec-usb-xhci': CAP.NEC_USB_XHCI,
  'ich9-usb-ehci1': CAP.ICH9_USB_EHCI1,
  'pci-ohci': CAP.PCI_OHCI,
  'usb-hub': CAP.USB_HUB,
  'pcie-root-port': CAP.PCIE_ROOT_PORT,
  ioh3420: CAP.IOH3420,
  'pci-bridge': CAP.PCI_BRIDGE,
  'i82801b11-bridge': CAP.DMI_TO_PCI_BRIDGE,
  'pcie-pci-bridge': CAP.PCIE_PCI_BRIDGE,
  'x3130-upstream': CAP.X3130_UPSTREAM,
  'xio3130-downstream': CAP.XIO3130_DOWNSTREAM,
  pxb: CAP.PXB,
  'pxb-pcie': CAP.PXB_PCIE,
  'gpex-pcihost': CAP.GPEX,
  lsi53c895a: CAP.SCSI_LSI,
  'virtio-scsi-pci': CAP.VIRTIO_SCSI,
  'cirrus-vga': CAP.CIRRUS_VGA,
  VGA: CAP.VGA,
  qxl: CAP.QXL,
  'virtio-vga': CAP.VIRTIO_VGA,
  'virtio-gpu-pci': CAP.VIRTIO_GPU,
  rtl8139: CAP.RTL8139,
  e1000: CAP.E1000,
  'virtio-net-pci': CAP.VIRTIO_NET,
  'virtio-net-pci-non-transitional': CAP.VIRTIO_PCI_TRANSITIONAL,
  'ich9-ahci': CAP.ICH9_AHCI,
  'isa-serial': CAP.ISA_SERIAL,
  'virtio-mmio': CAP.VIRTIO_MMIO,
  zpci: CAP.ZPCI,
  'tcg-accel': CAP.TCG,
};

/** Capability flags implied by a probe's QOM type list. */
export function flagsFromQomTypes(types: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const t of types) {
    const f = QOM_TYPE_CAPS[t];
    if (f) out.add(f);
  }
  return out;
}

/** `qemu64-x86_64-cpu` → `qemu64`: a CPU model name from QEMU's type name (the form query-machines reports). */
export function cpuModelFromTypeName(typeName: string): string {
  return typeName.replace(/-[a-z0-9_]+-cpu$/, '');
}
