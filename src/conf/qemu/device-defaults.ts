/**
 * Per-device defaults of a QEMU domain: the QEMU driver's (qemuDomainDeviceDefPostParse: disk driver
 * and format, NIC model, controller models, serial target type/model, video model and memory, panic,
 * TPM, vsock, shmem) followed by the generic ones (virDomainDeviceDefPostParseCommon: read-only
 * CD-ROMs, drive addresses, character device ports, default RNG source, filesystem access mode).
 */
import { ErrorCode, virtError } from '../../errors.js';
import { el, type XmlElement } from '../../xml/index.js';
import { hasCap } from '../caps/machines.js';
import { CAP } from '../caps/flags.js';
import { DISK_ORDER, INTERFACE_ORDER } from '../devices/kinds.js';
import type { DomainDef } from '../domain.js';
import type { QemuContext } from './context.js';
import { assignDriveAddress } from './drive-address.js';
import { isX86Arch } from './machine-kind.js';
import { own } from '../../shared/own.js';

const attrFirst = (e: XmlElement, name: string, value: string): void => {
  if (!e.hasAttr(name)) e.attrs.unshift([name, value]);
};

function diskDefaults(def: DomainDef, disk: XmlElement): void {
  const type = disk.attr('type') ?? 'file';
  let driver = disk.child('driver');
  if (!driver) {
    driver = el('driver');
    disk.insertOrdered(driver, DISK_ORDER);
  }
  attrFirst(driver, 'name', 'qemu');
  if (!driver.hasAttr('type') && type !== 'volume') driver.attrs.splice(1, 0, ['type', 'raw']);
  const mirror = disk.child('mirror');
  if (mirror && !mirror.hasAttr('format') && !mirror.child('format')) {
    const f = el('format', { type: 'raw' });
    mirror.insert(f, 0);
  }
  for (const enc of disk.elements('encryption')) if (!enc.hasAttr('engine')) enc.setAttr('engine', 'qemu');
  // Generic part: a CD-ROM is always read-only, and controller-based buses get a drive address.
  if (disk.attr('device') === 'cdrom' && !disk.child('readonly')) disk.insertOrdered(el('readonly'), DISK_ORDER);
  const source = disk.child('source');
  if (type === 'nvme' && source && !source.hasAttr('managed')) source.setAttr('managed', 'yes');
  if (!disk.child('address') && disk.child('target')?.attr('dev')) assignDriveAddress(def, disk);
}

/** rtl8139 while QEMU has it, else e1000, else virtio (qemuDomainDefaultNetModel on x86). */
function netDefaults(iface: XmlElement, ctx: QemuContext): void {
  const type = iface.attr('type') ?? 'user';
  if (type === 'hostdev' || iface.child('model')?.hasAttr('type')) return;
  if (!isX86Arch(ctx.arch) || !ctx.caps) return;
  const caps = ctx.caps;
  const model = hasCap(caps, CAP.RTL8139) ? 'rtl8139' : hasCap(caps, CAP.E1000) ? 'e1000' : hasCap(caps, CAP.VIRTIO_NET) ? 'virtio' : 'rtl8139';
  const m = iface.child('model');
  if (m) m.setAttr('type', model);
  else iface.insertOrdered(el('model', { type: model }), INTERFACE_ORDER);
}

function controllerDefaults(c: XmlElement, ctx: QemuContext): void {
  const type = c.attr('type');
  if (type === 'scsi' && !c.hasAttr('model')) {
    if (hasCap(ctx.caps, CAP.SCSI_LSI)) c.setAttr('model', 'lsilogic');
    else if (hasCap(ctx.caps, CAP.VIRTIO_SCSI)) c.setAttr('model', 'virtio-scsi');
    else throw virtError(ErrorCode.INTERNAL_ERROR, `Unable to determine model for SCSI controller idx=${Number(c.attr('index') ?? 0)}`);
  }
  if (type === 'usb') {
    if (!c.hasAttr('model') && ctx.caps) {
      const model = defaultUsbModel(c, ctx);
      if (model) c.setAttr('model', model);
    }
    const model = c.attr('model');
    if (model === 'qusb1' || model === 'qusb2') {
      throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `USB controller model type 'qusb1' or 'qusb2' is not supported in ${ctx.accel === 'kvm' ? 'kvm' : 'qemu'}`);
    }
    const ports = c.attr('ports');
    if ((model === 'nec-xhci' || model === 'qemu-xhci') && ports !== undefined && Number(ports) > 15) {
      throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `'${model}' controller only supports up to '15' ports`);
    }
  }
  if (type === 'pci') {
    const model = c.attr('model');
    const pseries = ctx.arch.startsWith('ppc64') && (ctx.machine ?? '').startsWith('pseries');
    if (!pseries && (model === 'pci-root' || model === 'pcie-root') && Number(c.attr('index') ?? 0) !== 0) {
      throw virtError(ErrorCode.XML_ERROR, 'pci-root and pcie-root controllers should have index 0');
    }
  }
}

/** A USB controller's model when none is given (qemuDomainControllerDefPostParse): PIIX3 UHCI, per architecture. */
function defaultUsbModel(c: XmlElement, ctx: QemuContext): string | undefined {
  let model = hasCap(ctx.caps, CAP.PIIX3_USB_UHCI) ? 'piix3-uhci' : undefined;
  if (ctx.arch === 's390x' || ctx.arch === 's390') {
    if (!c.child('address')) model = 'none';
  } else if (ctx.arch.startsWith('ppc64')) {
    model = hasCap(ctx.caps, CAP.PCI_OHCI) ? 'pci-ohci' : undefined;
  } else if (ctx.arch === 'aarch64') {
    if (hasCap(ctx.caps, CAP.QEMU_XHCI)) model = 'qemu-xhci';
    else if (hasCap(ctx.caps, CAP.NEC_USB_XHCI)) model = 'nec-xhci';
  }
  return model;
}

const SERIAL_MODEL: Record<string, string> = {
  'isa-serial': 'isa-serial',
  'usb-serial': 'usb-serial',
  'pci-serial': 'pci-serial',
  'isa-debug': 'isa-debugcon',
};

function chrTarget(chr: XmlElement): XmlElement {
  let t = chr.child('target');
  if (!t) {
    t = el('target');
    const after = chr.children.findIndex((c) => c.kind === 'element' && (c.name === 'alias' || c.name === 'address'));
    if (after >= 0) chr.children.splice(after, 0, t);
    else chr.children.push(t);
  }
  return t;
}

/** Serial target type and model on x86 (qemuDomainChrDefPostParse) and a UNIX source without path listens. */
function chrDefaults(chr: XmlElement, ctx: QemuContext): void {
  if (chr.name === 'serial' && isX86Arch(ctx.arch)) {
    const t = chrTarget(chr);
    if (!t.hasAttr('type')) t.attrs.unshift(['type', 'isa-serial']);
    const model = own(SERIAL_MODEL, t.attr('type'));
    if (model && !t.child('model')) t.append(el('model', { name: model }));
  }
  if ((chr.attr('type') ?? 'pty') === 'unix') {
    // libvirt picks the socket path itself when none is given (and listens on it): nothing to print.
    const src = chr.child('source');
    if (src && !src.hasAttr('path')) chr.remove(src);
    else if (src && !src.hasAttr('mode')) src.attrs.unshift(['mode', 'connect']);
  }
}

/** virDomainChrDefPostParse: consoles default to serial targets; ports are one past the highest of their kind. */
function chrPorts(def: DomainDef, chr: XmlElement): void {
  if (chr.name === 'console') {
    const t = chrTarget(chr);
    if (!t.hasAttr('type')) t.attrs.unshift(['type', 'serial']);
  }
  if (chr.name !== 'serial' && chr.name !== 'parallel' && chr.name !== 'console') return;
  const t = chrTarget(chr);
  if (t.hasAttr('port')) return;
  let max = -1;
  for (const o of def.peekNamed(chr.name)) {
    const p = o.child('target')?.attr('port');
    if (p !== undefined && Number(p) > max) max = Number(p);
  }
  t.setAttr('port', max + 1);
}

const VIDEO_RAM: Record<string, number> = { vga: 16384, cirrus: 16384, vmvga: 16384, bochs: 16384, xen: 4096, qxl: 65536 };

const pow2 = (n: number): number => (n <= 1 ? n : 2 ** Math.ceil(Math.log2(n)));

/** Default video model (cirrus, else VGA, as QEMU has them), QXL memory sizes, rounded to powers of two. */
export function videoDefaults(video: XmlElement, ctx: QemuContext): void {
  let model = video.child('model');
  if (!model) {
    model = el('model');
    video.insert(model, 0);
  }
  if (!model.hasAttr('type')) {
    const type = hasCap(ctx.caps, CAP.CIRRUS_VGA) ? 'cirrus' : hasCap(ctx.caps, CAP.VGA) ? 'vga' : 'default';
    model.attrs.unshift(['type', type]);
  }
  const type = model.attr('type')!;
  if (type === 'none') return;
  if (type === 'qxl') {
    if (!model.hasAttr('vgamem')) model.setAttr('vgamem', 16384);
    if (!model.hasAttr('ram')) model.setAttr('ram', VIDEO_RAM['qxl']!);
  }
  if (!model.hasAttr('vram') && own(VIDEO_RAM, type)) model.setAttr('vram', own(VIDEO_RAM, type)!);
  for (const a of ['ram', 'vram']) {
    const v = model.attr(a);
    if (v !== undefined && /^\d+$/.test(v)) model.setAttr(a, pow2(Number(v)));
  }
  if (!model.hasAttr('heads')) model.setAttr('heads', 1);
}

/** The attribute order libvirt prints a video model in. */
export const VIDEO_MODEL_ATTRS = ['type', 'ram', 'vram', 'vram64', 'vgamem', 'heads', 'primary', 'blob'];

function rngDefaults(rng: XmlElement): void {
  const backend = rng.child('backend');
  if (backend?.attr('model') === 'random' && !backend.text().trim()) backend.setText('/dev/random');
}

function tpmDefaults(tpm: XmlElement, ctx: QemuContext): void {
  if (!tpm.hasAttr('model')) tpm.setAttr('model', ctx.arch === 'ppc64' ? 'tpm-spapr' : 'tpm-tis');
  const backend = tpm.child('backend');
  if (backend?.attr('type') === 'emulator' && !backend.hasAttr('version')) {
    const model = tpm.attr('model');
    backend.setAttr('version', model === 'tpm-spapr' || model === 'tpm-crb' ? '2.0' : '1.2');
  }
}

function vsockDefaults(vsock: XmlElement): void {
  if (!vsock.hasAttr('model')) vsock.setAttr('model', 'virtio');
  let cid = vsock.child('cid');
  if (!cid) {
    cid = el('cid');
    vsock.insert(cid, 0);
  }
  if (!cid.hasAttr('auto')) cid.attrs.unshift(['auto', cid.hasAttr('address') && cid.attr('address') !== '0' ? 'no' : 'yes']);
}

function shmemDefaults(shmem: XmlElement): void {
  if (!shmem.child('model')) shmem.insert(el('model', { type: 'ivshmem' }), 0);
  const model = shmem.child('model')?.attr('type') ?? 'ivshmem';
  const server = shmem.child('server');
  if (model !== 'ivshmem-doorbell' && !shmem.child('size')) {
    const size = el('size', { unit: 'M' }, '4');
    const at = shmem.children.findIndex((c) => c.kind === 'element' && c.name !== 'model');
    if (at >= 0) shmem.children.splice(at, 0, size);
    else shmem.children.push(size);
  }
  if (model === 'ivshmem') return;
  if (server) {
    let msi = shmem.child('msi');
    if (!msi) {
      msi = el('msi');
      shmem.insertOrdered(msi, ['model', 'size', 'server', 'msi', 'alias', 'address']);
    }
    if (!msi.hasAttr('ioeventfd')) msi.setAttr('ioeventfd', 'on');
  }
}

function panicDefaults(panic: XmlElement): void {
  if (!panic.hasAttr('model')) panic.setAttr('model', 'isa');
}

function fsDefaults(fs: XmlElement): void {
  const socket = fs.child('driver')?.attr('type') === 'virtiofs' && fs.child('source')?.hasAttr('socket');
  if (!fs.hasAttr('accessmode') && !socket) fs.setAttr('accessmode', 'passthrough');
}

/** Units a SCSI controller model cannot give a device (libvirt's virDomainSCSIDriveAddressIsUsed). */
function scsiUnitUnusable(model: string | undefined, unit: number): boolean {
  switch (model) {
    case 'virtio-scsi':
    case 'virtio-transitional':
    case 'virtio-non-transitional':
      return unit > 16383;
    case 'ibmvscsi':
      return unit > 31 || unit === 7;
    case 'lsisas1068':
      return unit > 1;
    case 'lsisas1078':
      return unit > 255;
    case 'lsilogic':
    case 'vmpvscsi':
    case 'buslogic':
      return unit === 7;
    case 'ncr53c90':
    case 'dc390':
    case 'am53c974':
      return unit > 6;
    default:
      return false;
  }
}

/** A SCSI host device without an address takes the first free unit, controller by controller (7 units each). */
function hostdevDefaults(def: DomainDef, h: XmlElement): void {
  if ((h.attr('mode') ?? 'subsystem') !== 'subsystem' || h.attr('type') !== 'scsi' || h.child('address')) return;
  const used = new Set<string>();
  for (const d of def.peekDevices()) {
    const isScsi = (d.name === 'disk' && d.child('target')?.attr('bus') === 'scsi') || (d.name === 'hostdev' && d.attr('type') === 'scsi');
    const a = d.child('address');
    if (!isScsi || a?.attr('type') !== 'drive') continue;
    used.add(`${Number(a.attr('controller') ?? 0)}:${Number(a.attr('bus') ?? 0)}:${Number(a.attr('target') ?? 0)}:${Number(a.attr('unit') ?? 0)}`);
  }
  const models = new Map(def.peekNamed('controller').filter((c) => c.attr('type') === 'scsi').map((c) => [Number(c.attr('index') ?? 0), c.attr('model')]));
  for (let controller = 0; controller <= 255; controller++) {
    for (let unit = 0; unit < 7; unit++) {
      if (used.has(`${controller}:0:0:${unit}`) || scsiUnitUnusable(models.get(controller), unit)) continue;
      h.append(el('address', { type: 'drive', controller, bus: 0, target: 0, unit }));
      return;
    }
  }
}

function memoryDefaults(mem: XmlElement): void {
  if (mem.attr('model') === 'virtio-pmem' && !mem.hasAttr('access')) mem.setAttr('access', 'shared');
}

/** Applies one device's defaults (the QEMU driver's, then the generic ones). */
export function deviceDefaults(def: DomainDef, dev: XmlElement, ctx: QemuContext): void {
  switch (dev.name) {
    case 'disk':
      diskDefaults(def, dev);
      return;
    case 'interface':
      netDefaults(dev, ctx);
      return;
    case 'controller':
      controllerDefaults(dev, ctx);
      return;
    case 'serial':
    case 'parallel':
    case 'console':
    case 'channel':
      chrDefaults(dev, ctx);
      chrPorts(def, dev);
      return;
    case 'video':
      videoDefaults(dev, ctx);
      return;
    case 'rng':
      rngDefaults(dev);
      return;
    case 'tpm':
      tpmDefaults(dev, ctx);
      return;
    case 'vsock':
      vsockDefaults(dev);
      return;
    case 'shmem':
      shmemDefaults(dev);
      return;
    case 'panic':
      panicDefaults(dev);
      return;
    case 'filesystem':
      fsDefaults(dev);
      return;
    case 'memory':
      memoryDefaults(dev);
      return;
    case 'hostdev':
      hostdevDefaults(def, dev);
      return;
  }
}
