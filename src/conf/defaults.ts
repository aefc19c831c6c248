/**
 * Define-time defaults (libvirt's post-parse): UUID, memory in KiB, vCPU,
 * OS type/arch/machine/boot, lifecycle actions, then per-device defaults and,
 * for QEMU domains, implicit devices and addresses.
 */
import { el, type XmlElement } from '../xml/index.js';
import { applyDiskDefaults } from './devices/disk.js';
import { ensureMac } from './devices/interface.js';
import { DOMAIN_ORDER } from './devices/kinds.js';
import { DEFAULT_QEMU_HOST } from './caps/builtin-qemu-7.2.js';
import type { QemuHost } from './caps/types.js';
import type { DomainDef } from './domain.js';
import type { Flavour } from './flavour.js';
import { normalizeQemuDomain } from './qemu/normalize.js';
import { placeQemuDevice } from './qemu/place-device.js';
import { numaMemoryKiB } from './qemu/numa.js';
import { toKiB } from './units.js';
import { generateUuid, parseUuid } from './uuid.js';

/** Total size of `<memory>` devices (DIMMs, virtio-mem, ...) in KiB. */
function memoryDevicesKiB(def: DomainDef): number {
  let total = 0;
  for (const m of def.peekNamed('memory')) {
    const size = m.child('target')?.child('size');
    if (size) total += toKiB(size.text(), size.attr('unit'), '<memory><target><size>');
  }
  return total;
}

function setMemory(root: XmlElement, name: string, kib: number): void {
  const m = root.child(name) ?? el(name);
  m.attrs = [['unit', 'KiB'], ...m.attrs.filter(([k]) => k !== 'unit')];
  m.setText(kib);
  if (!root.children.includes(m)) root.insertOrdered(m, DOMAIN_ORDER);
}

function ensureText(root: XmlElement, name: string, value: string): void {
  if (!root.child(name)) root.insertOrdered(el(name, {}, value), DOMAIN_ORDER);
}

/** Device-level defaults shared by define and attach: disk type/bus, interface MAC. Returns whether a MAC was generated. */
export function applyDeviceDefaults(dev: XmlElement, flavour: Flavour): boolean {
  if (dev.name === 'disk') applyDiskDefaults(dev);
  if (dev.name === 'interface') return ensureMac(dev, flavour.macPrefix);
  return false;
}

export interface DefaultsOptions {
  /** The QEMU host QEMU-type domains are normalized for (default: QEMU 7.2 on x86_64). */
  qemuHost?: QemuHost;
}

/**
 * Addresses and controllers a device needs once it is part of `def` (QEMU domains only). A config
 * attach (`allowNewPorts`) re-runs the whole normalization, as libvirt re-runs its post-parse; a live
 * attach finds a hot-pluggable slot on the buses the guest already has.
 */
export function placeDevice(def: DomainDef, dev: XmlElement, flavour: Flavour, options: { allowNewPorts: boolean; qemuHost?: QemuHost }): void {
  if (!flavour.qemuDefaults) return;
  const host = options.qemuHost ?? DEFAULT_QEMU_HOST;
  if (options.allowNewPorts) normalizeQemuDomain(def, host);
  else placeQemuDevice(def, dev, host);
}

/** Applies every define-time default to a parsed domain, in place. */
export function applyDomainDefaults(def: DomainDef, flavour: Flavour, options: DefaultsOptions = {}): void {
  const host = options.qemuHost ?? DEFAULT_QEMU_HOST;
  const root = def.root;
  const uuid = root.child('uuid');
  if (uuid) uuid.setText(parseUuid(uuid.text()));
  else root.insertOrdered(el('uuid', {}, generateUuid()), DOMAIN_ORDER);

  const mem = root.child('memory');
  let memKiB = mem ? toKiB(mem.text(), mem.attr('unit'), '<memory>') : 0;
  // Without <memory>, the guest NUMA cells and memory devices add up to it (virDomainDefPostParseMemory).
  if (memKiB === 0) memKiB = numaMemoryKiB(def) + memoryDevicesKiB(def);
  const cur = root.child('currentMemory');
  let curKiB = cur ? toKiB(cur.text(), cur.attr('unit'), '<currentMemory>') : memKiB;
  if (curKiB > memKiB || curKiB === 0) curKiB = memKiB;
  setMemory(root, 'memory', memKiB);
  setMemory(root, 'currentMemory', curKiB);

  const vcpu = root.child('vcpu');
  if (!vcpu) root.insertOrdered(el('vcpu', { placement: 'static' }, '1'), DOMAIN_ORDER);
  else if (!vcpu.hasAttr('placement')) vcpu.attrs.unshift(['placement', 'static']);

  applyOsDefaults(def, flavour, host);
  ensureText(root, 'on_poweroff', 'destroy');
  ensureText(root, 'on_reboot', 'restart');
  ensureText(root, 'on_crash', 'destroy');

  for (const dev of def.peekDevices()) applyDeviceDefaults(dev, flavour);
  if (flavour.qemuDefaults) normalizeQemuDomain(def, host);
}

function applyOsDefaults(def: DomainDef, flavour: Flavour, host: QemuHost): void {
  const root = def.root;
  let os = root.child('os');
  if (!os) {
    os = el('os');
    root.insertOrdered(os, DOMAIN_ORDER);
  }
  let type = os.child('type');
  if (!type) {
    type = el('type', {}, 'hvm');
    os.insert(type, 0);
  }
  const osType = type.text().trim() || 'hvm';
  if (!type.hasAttr('arch')) type.setAttr('arch', flavour.family === 'qemu' ? host.hostArch : 'x86_64');
  // A QEMU guest's machine comes from its binary's capabilities (normalizeQemuDomain).
  if (!type.hasAttr('machine') && flavour.family === 'xen') type.setAttr('machine', osType === 'hvm' ? 'xenfv' : 'xenpv');
  // hvm guests without direct kernel boot or per-device boot order boot from the first disk.
  const perDeviceBoot = def.peekDevices().some((d) => d.child('boot'));
  if (osType === 'hvm' && !os.child('boot') && !os.child('kernel') && !perDeviceBoot) {
    const after = ['type', 'firmware', 'loader', 'nvram'];
    let pos = 0;
    os.children.forEach((c, i) => {
      if (c.kind === 'element' && after.includes(c.name)) pos = i + 1;
    });
    os.insert(el('boot', { dev: 'hd' }), pos);
  }
}
