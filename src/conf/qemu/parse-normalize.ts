/**
 * What libvirt's parser itself normalizes before any driver defaults: addresses in their printed form
 * (`slot='18'` → `slot='0x12'`, missing fields as zero), ICH9 UHCI companions without `<master>` get
 * theirs, comments disappear (libvirt keeps none outside `<metadata>`).
 */
import { el, type XmlElement } from '../../xml/index.js';
import { driveAddressElement, pciAddressElement, readDriveAddress, readPciAddress } from '../address.js';
import type { DomainDef } from '../domain.js';
import { own } from '../../shared/own.js';

const COMPANION_PORT: Record<string, number> = { 'ich9-uhci1': 0, 'ich9-uhci2': 2, 'ich9-uhci3': 4 };

/** Rewrites an address element in libvirt's form, keeping its place and what it contains. */
function canonicalAddress(dev: XmlElement): void {
  const a = dev.child('address');
  if (!a) return;
  let next: XmlElement | undefined;
  switch (a.attr('type')) {
    case 'pci': {
      const p = readPciAddress(dev)!;
      const multi = a.attr('multifunction');
      next = pciAddressElement({ ...p, multifunction: multi === 'on' || multi === 'off' ? multi : undefined });
      break;
    }
    case 'drive':
      next = driveAddressElement(readDriveAddress(dev)!);
      break;
    case 'virtio-serial':
      next = el('address', { type: 'virtio-serial', controller: num(a.attr('controller')), bus: num(a.attr('bus')), port: num(a.attr('port')) });
      break;
    case 'ccid':
      next = el('address', { type: 'ccid', controller: num(a.attr('controller')), slot: num(a.attr('slot')) });
      break;
    default:
      return;
  }
  next.children = a.children;
  dev.children[dev.children.indexOf(a)] = next;
}

const num = (v: string | undefined): number => (v === undefined || v.trim() === '' ? 0 : Number.parseInt(v, /^\s*0x/i.test(v) ? 16 : 10));

/** Drops comments and processing instructions outside `<metadata>`, walking the tree without recursion. */
function dropComments(root: XmlElement): void {
  const stack: XmlElement[] = [root];
  while (stack.length) {
    const e = stack.pop()!;
    if (e.name === 'metadata') continue;
    const kids = e.children;
    let drop = false;
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]!;
      if (c.kind === 'element') stack.push(c);
      else if (c.kind === 'comment' || c.kind === 'pi') drop = true;
    }
    if (drop) e.children = kids.filter((c) => c.kind !== 'comment' && c.kind !== 'pi');
  }
}

/** The parser files a `primary='yes'` video card first among the videos. */
function primaryVideoFirst(def: DomainDef): void {
  const videos = def.elementsNamed('video');
  const primary = videos.findIndex((v) => v.child('model')?.attr('primary') === 'yes');
  if (primary <= 0) return;
  const devices = def.devicesElement();
  const kids = devices.children;
  kids.splice(kids.indexOf(videos[primary]!), 1);
  kids.splice(kids.indexOf(videos[0]!), 0, videos[primary]!);
  def.reindexDevices();
}

export function parseNormalize(def: DomainDef): void {
  dropComments(def.root);
  primaryVideoFirst(def);
  for (const dev of def.peekDevices()) {
    canonicalAddress(dev);
    if (dev.name === 'controller' && dev.attr('type') === 'usb') {
      const port = own(COMPANION_PORT, dev.attr('model'));
      if (port !== undefined && !dev.child('master')) {
        const at = dev.children.findIndex((c) => c.kind === 'element' && (c.name === 'alias' || c.name === 'address'));
        const master = el('master', { startport: port });
        if (at >= 0) dev.children.splice(at, 0, master);
        else dev.children.push(master);
      }
    }
  }
}
