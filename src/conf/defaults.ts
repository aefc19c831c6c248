/**
 * Define-time defaults (libvirt's post-parse): UUID, memory in KiB, vCPU,
 * OS type/arch/machine/boot, lifecycle actions, then per-device defaults and,
 * for QEMU domains, implicit devices and addresses.
 */
import { el, type XmlElement } from '../xml/index.js';
import { applyDiskDefaults } from './devices/disk.js';
import { ensureMac } from './devices/interface.js';
import { DOMAIN_ORDER } from './devices/kinds.js';
import type { DomainDef } from './domain.js';
import type { Flavour } from './flavour.js';
import { addControllersFor, addImplicitQemuDevices } from './implicit-devices.js';
import { assignPciAddresses, isX86 } from './pci.js';
import { toKiB } from './units.js';
import { generateUuid, parseUuid } from './uuid.js';

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

/** Addresses and controllers a device needs once it is part of `def` (QEMU domains only). */
export function placeDevice(def: DomainDef, dev: XmlElement, flavour: Flavour, options: { allowNewPorts: boolean }): void {
  if (!flavour.qemuDefaults || !isX86(def)) return;
  addControllersFor(def, dev);
  assignPciAddresses(def, options, [dev, ...def.deviceElements().filter((e) => e.name === 'controller' && !e.child('address'))]);
}

/** Applies every define-time default to a parsed domain, in place. */
export function applyDomainDefaults(def: DomainDef, flavour: Flavour): void {
  const root = def.root;
  const uuid = root.child('uuid');
  if (uuid) uuid.setText(parseUuid(uuid.text()));
  else root.insertOrdered(el('uuid', {}, generateUuid()), DOMAIN_ORDER);

  const mem = root.child('memory');
  const memKiB = mem ? toKiB(mem.text(), mem.attr('unit'), '<memory>') : 0;
  const cur = root.child('currentMemory');
  let curKiB = cur ? toKiB(cur.text(), cur.attr('unit'), '<currentMemory>') : memKiB;
  if (curKiB > memKiB) curKiB = memKiB;
  setMemory(root, 'memory', memKiB);
  setMemory(root, 'currentMemory', curKiB);

  const vcpu = root.child('vcpu');
  if (!vcpu) root.insertOrdered(el('vcpu', { placement: 'static' }, '1'), DOMAIN_ORDER);
  else if (!vcpu.hasAttr('placement')) vcpu.attrs.unshift(['placement', 'static']);

  applyOsDefaults(def, flavour);
  ensureText(root, 'on_poweroff', 'destroy');
  ensureText(root, 'on_reboot', 'restart');
  ensureText(root, 'on_crash', 'destroy');

  const devices = def.devicesElement();
  if (flavour.family === 'qemu' && !devices.child('emulator')) {
    devices.insert(el('emulator', {}, `/usr/bin/qemu-system-${def.os.arch ?? 'x86_64'}`), 0);
  }
  for (const dev of def.deviceElements()) applyDeviceDefaults(dev, flavour);
  if (flavour.family === 'qemu') addDefaultAudio(def);
  if (flavour.qemuDefaults && isX86(def)) {
    addImplicitQemuDevices(def);
    assignPciAddresses(def, { allowNewPorts: true });
  }
}

/**
 * libvirt 9 gives every QEMU domain an audio backend: SPICE's when SPICE graphics exist, else `none`.
 * SDL, D-Bus and egl-headless displays take theirs from the host environment, so none is invented there.
 */
function addDefaultAudio(def: DomainDef): void {
  if (def.elementsNamed('audio').length > 0) return;
  const graphics = def.elementsNamed('graphics').map((g) => g.attr('type'));
  if (graphics.some((t) => t === 'sdl' || t === 'dbus' || t === 'egl-headless')) return;
  def.addDevice(el('audio', { id: 1, type: graphics.includes('spice') ? 'spice' : 'none' }));
}

function applyOsDefaults(def: DomainDef, flavour: Flavour): void {
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
  if (!type.hasAttr('arch')) type.setAttr('arch', 'x86_64');
  if (!type.hasAttr('machine')) {
    const machine = flavour.family === 'qemu' ? 'pc' : flavour.family === 'xen' ? (osType === 'hvm' ? 'xenfv' : 'xenpv') : undefined;
    if (machine) type.setAttr('machine', machine);
  }
  // hvm guests without direct kernel boot or per-device boot order boot from the first disk.
  const perDeviceBoot = def.deviceElements().some((d) => d.child('boot'));
  if (osType === 'hvm' && !os.child('boot') && !os.child('kernel') && !perDeviceBoot) {
    const after = ['type', 'firmware', 'loader', 'nvram'];
    let pos = 0;
    os.children.forEach((c, i) => {
      if (c.kind === 'element' && after.includes(c.name)) pos = i + 1;
    });
    os.insert(el('boot', { dev: 'hd' }), pos);
  }
}
