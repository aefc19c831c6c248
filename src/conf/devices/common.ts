/** What every device element shares: alias, address, boot order. */
import { el, type XmlElement } from '../../xml/index.js';
import { addressKey } from '../address.js';

/** User aliases survive inactive parsing only with this prefix (libvirt's user-alias rule). */
export const USER_ALIAS_PREFIX = 'ua-';

export function readAlias(dev: XmlElement): string | undefined {
  return dev.child('alias')?.attr('name');
}

/** Sets `<alias name>` where libvirt prints it: just before `<address>` / `<acpi>`, else last. */
export function setAlias(dev: XmlElement, name: string): void {
  const existing = dev.child('alias');
  if (existing) {
    existing.setAttr('name', name);
    return;
  }
  const node = el('alias', { name });
  const i = dev.children.findIndex((c) => c.kind === 'element' && (c.name === 'address' || c.name === 'acpi'));
  if (i >= 0) dev.children.splice(i, 0, node);
  else dev.children.push(node);
}

/** Puts an `<address>` element in place (replacing any), before `<acpi>` when present. */
export function setAddress(dev: XmlElement, address: XmlElement): void {
  if (dev.child('address')) dev.removeChildren('address');
  const kids = dev.children;
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.kind === 'element' && c.name === 'acpi') {
      kids.splice(i, 0, address);
      return;
    }
  }
  kids.push(address);
}

/** Drops an alias that only the hypervisor may choose: anything not `ua-*` (parse of inactive XML). */
export function stripNonUserAlias(dev: XmlElement): void {
  const alias = readAlias(dev);
  if (alias !== undefined && !alias.startsWith(USER_ALIAS_PREFIX)) dev.removeChildren('alias');
}

/** Shared typed fields of every device. */
export interface DeviceCommon {
  /** The device's element in its definition; edits go through it. */
  el: XmlElement;
  alias?: string;
  /** Comparable address key (`pci:0000:00:03.0`, `drive:0:0:0:1`, ...). */
  addressKey?: string;
  bootOrder?: number;
}

export function readCommon(dev: XmlElement): DeviceCommon {
  const boot = dev.child('boot')?.attr('order');
  return {
    el: dev,
    alias: readAlias(dev),
    addressKey: addressKey(dev),
    bootOrder: boot === undefined ? undefined : Number(boot),
  };
}
