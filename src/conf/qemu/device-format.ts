/**
 * Device values libvirt's parser normalizes, so its output prints them in one form: network storage
 * hosts with their protocol's default port, iSCSI targets with a LUN, NIC model names in their
 * canonical spelling, host devices' `managed` flag spelled out, USB redirection filters in libvirt's
 * notation, filesystem permission modes in four octal digits, ...
 */
import { el, type XmlElement } from '../../xml/index.js';
import { DISK_ORDER } from '../devices/kinds.js';
import type { DomainDef } from '../domain.js';
import { toBytes } from '../units.js';
import { own } from '../../shared/own.js';

const DEFAULT_PORT: Record<string, number> = {
  http: 80,
  https: 443,
  ftp: 21,
  ftps: 990,
  tftp: 69,
  sheepdog: 7000,
  nbd: 10809,
  ssh: 22,
  iscsi: 3260,
  gluster: 24007,
  vxhs: 9999,
};

/** `<source protocol=…>` of network storage: default host ports, an iSCSI LUN. */
function networkSource(src: XmlElement): void {
  const protocol = src.attr('protocol');
  if (!protocol) return;
  const port = own(DEFAULT_PORT, protocol);
  for (const host of src.elements('host')) {
    if (port !== undefined && !host.hasAttr('port') && host.attr('transport') !== 'unix' && !host.hasAttr('socket')) host.setAttr('port', port);
  }
  const name = src.attr('name');
  if (protocol === 'iscsi' && name !== undefined && !name.includes('/')) src.setAttr('name', `${name}/0`);
}

/** Every storage source of a disk: its own and those of its backing chain. */
function storageSources(disk: XmlElement): { holder: XmlElement; source?: XmlElement }[] {
  const out: { holder: XmlElement; source?: XmlElement }[] = [{ holder: disk, source: disk.child('source') }];
  for (let b = disk.child('backingStore'); b; b = b.child('backingStore')) out.push({ holder: b, source: b.child('source') });
  return out;
}

const hasContent = (e: XmlElement | undefined): boolean => !!e && (e.attrs.length > 0 || e.elements().length > 0);

function disk(d: XmlElement): void {
  for (const { source } of storageSources(d)) {
    if (!source) continue;
    networkSource(source);
    for (const enc of source.elements('encryption')) if (!enc.hasAttr('engine')) enc.setAttr('engine', 'qemu');
  }
  const device = d.attr('device') ?? 'disk';
  // An empty removable drive has no storage type: libvirt prints it as a file.
  if ((device === 'cdrom' || device === 'floppy') && !hasContent(d.child('source')) && d.attr('type') !== 'file') {
    d.setAttr('type', 'file');
    const s = d.child('source');
    if (s) d.remove(s);
  }
  if (d.attr('type') === 'vhostuser' && !d.hasAttr('snapshot')) d.setAttr('snapshot', 'no');
  const caches = [d.child('driver')?.child('metadata_cache')];
  for (let b = d.child('backingStore'); b; b = b.child('backingStore')) caches.push(b.child('format')?.child('metadata_cache'));
  for (const max of caches.map((c) => c?.child('max_size'))) {
    if (!max) continue;
    const bytes = toBytes(max.text(), max.attr('unit') ?? 'bytes', '<metadata_cache><max_size>');
    max.attrs = [['unit', 'bytes']];
    max.setText(bytes.toString());
  }
  void DISK_ORDER;
}

/** NIC models libvirt knows, which it matches case-insensitively and prints in this spelling. */
const NET_MODELS = ['virtio', 'virtio-transitional', 'virtio-non-transitional', 'e1000', 'e1000e', 'igb', 'rtl8139', 'netfront', 'usb-net', 'spapr-vlan', 'lan9118', 'smc91c111', 'vlance', 'vmxnet', 'vmxnet2', 'vmxnet3', 'Am79C970A', 'Am79C973', '82540EM', '82545EM', '82543GC'];

function nic(n: XmlElement): void {
  const model = n.child('model');
  const type = model?.attr('type');
  if (model && type !== undefined) {
    const known = NET_MODELS.find((m) => m.toLowerCase() === type.toLowerCase());
    if (known) model.setAttr('type', known);
  }
  if (n.attr('type') === 'vdpa' && !model) n.insertOrdered(el('model', { type: 'virtio' }), ['mac', 'source', 'model']);
  // Driver options exist only for virtio NICs (and a hostdev NIC's <driver name='vfio'>).
  const m = n.child('model')?.attr('type');
  const driver = n.child('driver');
  if (driver && n.attr('type') !== 'hostdev' && m !== undefined && !m.startsWith('virtio')) n.remove(driver);
  // One queue is the default.
  if (n.child('driver')?.attr('queues') === '1') n.child('driver')!.removeAttr('queues');
  // A vhost device only serves virtio NICs.
  const backend = n.child('backend');
  if (backend && m !== undefined && !m.startsWith('virtio')) backend.removeAttr('vhost');
  const coalesce = n.child('coalesce');
  if (coalesce) {
    const frames = coalesce.child('rx')?.child('frames')?.attr('max');
    if (frames === undefined || Number(frames) === 0) n.remove(coalesce);
  }
}

function hostdev(h: XmlElement): void {
  if ((h.attr('mode') ?? 'subsystem') === 'subsystem') {
    if (h.attr('managed') !== 'yes') h.setAttr('managed', 'no');
    const src = h.child('source');
    if (src && h.attr('type') === 'scsi') networkSource(src);
  }
}

/** `<usbdev>` of a redirection filter: -1 is "any" (left out), numbers in libvirt's hex, version as BCD. */
function redirfilter(f: XmlElement): void {
  for (const u of f.elements('usbdev')) {
    for (const [attr, width] of [
      ['class', 2],
      ['vendor', 4],
      ['product', 4],
    ] as const) {
      const v = u.attr(attr);
      if (v === undefined) continue;
      const n = Number.parseInt(v, /^0x/i.test(v) ? 16 : 10);
      if (n < 0) u.removeAttr(attr);
      else u.setAttr(attr, `0x${n.toString(16).toUpperCase().padStart(width, '0')}`);
    }
    const version = u.attr('version');
    if (version !== undefined) {
      if (Number(version) < 0) u.removeAttr('version');
      else {
        const [major = '0', minor = '0'] = version.split('.');
        u.setAttr('version', `${Number(major)}.${minor.padEnd(2, '0').slice(0, 2)}`);
      }
    }
  }
}

function filesystem(fs: XmlElement): void {
  for (const a of ['fmode', 'dmode']) {
    const v = fs.attr(a);
    if (v !== undefined && /^[0-7]+$/.test(v)) fs.setAttr(a, v.replace(/^0+/, '').padStart(4, '0'));
  }
}

export function deviceFormat(def: DomainDef): void {
  for (const d of def.peekDevices()) {
    switch (d.name) {
      case 'disk':
        disk(d);
        break;
      case 'interface':
        nic(d);
        break;
      case 'hostdev':
        hostdev(d);
        break;
      case 'redirfilter':
        redirfilter(d);
        break;
      case 'filesystem':
        filesystem(d);
        break;
    }
  }
}
