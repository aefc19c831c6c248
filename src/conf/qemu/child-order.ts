/**
 * The order libvirt's formatter prints the children of each device kind in (virDomain*DefFormat),
 * ending with the common device info (boot order, alias, USB master, ROM, ACPI index, address).
 * Children virtkit does not know keep their relative order, after the known ones.
 */
import type { DomainDef } from '../domain.js';
import { sortChildren } from './domain-format.js';
import { own } from '../../shared/own.js';

const INFO = ['boot', 'alias', 'master', 'rom', 'acpi', 'address'];
const CHR = ['source', 'protocol', 'log', 'target', ...INFO];

export const CHILD_ORDER: Readonly<Record<string, readonly string[]>> = {
  disk: ['driver', 'auth', 'source', 'backingStore', 'backenddomain', 'geometry', 'blockio', 'mirror', 'target', 'iotune', 'readonly', 'shareable', 'transient', 'serial', 'wwn', 'vendor', 'product', 'encryption', ...INFO],
  interface: [
    'mac', 'source', 'vlan', 'virtualport', 'bandwidth', 'port', 'actual', 'ip', 'route', 'portForward', 'script', 'downscript', 'backenddomain',
    'target', 'guest', 'model', 'driver', 'backend', 'filterref', 'tune', 'teaming', 'link', 'mtu', 'coalesce', ...INFO,
  ],
  controller: ['model', 'target', 'driver', ...INFO, 'pcihole64'],
  filesystem: ['driver', 'binary', 'source', 'target', 'idmap', 'readonly', ...INFO, 'space_hard_limit', 'space_soft_limit'],
  hostdev: ['driver', 'source', 'origstates', 'teaming', 'readonly', 'shareable', ...INFO],
  video: ['driver', 'model', ...INFO],
  rng: ['rate', 'backend', 'driver', ...INFO],
  sound: ['codec', 'audio', ...INFO],
  memballoon: ['stats', ...INFO, 'driver'],
  shmem: ['model', 'size', 'server', 'msi', ...INFO],
  memory: ['uuid', 'source', 'target', ...INFO],
  serial: CHR,
  parallel: CHR,
  console: CHR,
  channel: CHR,
};

const HOSTDEV_NIC = ['mac', 'driver', ...CHILD_ORDER['interface']!.filter((n) => n !== 'mac' && n !== 'driver')];

const CPUTUNE_ORDER = [
  'shares', 'period', 'quota', 'global_period', 'global_quota', 'emulator_period', 'emulator_quota', 'iothread_period', 'iothread_quota',
  'vcpupin', 'emulatorpin', 'iothreadpin', 'vcpusched', 'iothreadsched', 'emulatorsched', 'cachetune', 'memorytune',
];

const BACKING_ORDER = ['format', 'source', 'backingStore'];
const VDAGENT_ORDER = ['clipboard', 'mouse'];

export function sortDeviceChildren(def: DomainDef): void {
  for (const disk of def.peekNamed('disk')) {
    for (let b = disk.child('backingStore'); b; b = b.child('backingStore')) sortChildren(b, BACKING_ORDER);
  }
  for (const ch of def.peekNamed('channel')) {
    const src = ch.child('source');
    if (ch.attr('type') === 'qemu-vdagent' && src) sortChildren(src, VDAGENT_ORDER);
  }
  for (const dev of def.peekDevices()) {
    // A hostdev NIC prints its host device part (driver, source) the way <hostdev> does.
    const order = dev.name === 'interface' && dev.attr('type') === 'hostdev' ? HOSTDEV_NIC : own(CHILD_ORDER, dev.name);
    if (order && dev.children.length > 1) sortChildren(dev, order);
  }
  const cputune = def.root.child('cputune');
  if (cputune) sortChildren(cputune, CPUTUNE_ORDER);
}
