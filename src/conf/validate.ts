/** Semantic validation of a whole domain definition (always on, like libvirt's post-parse validation). */
import { ErrorCode, virtError } from '../errors.js';
import { readAlias } from './devices/common.js';
import { diskSource } from './devices/disk.js';
import { validateDevice } from './devices/index.js';
import type { DomainDef } from './domain.js';
import { DOMAIN_TYPES } from './flavour.js';
import { formatPciAddress, pciAddressNumberOf, readPciAddress } from './address.js';
import { checkDefinitionSize, checkDeviceCount, formatWithinLimits } from './limits.js';

/** Largest `<vcpu>` count (a C unsigned int, as libvirt parses it; machine types allow far fewer). */
export const MAX_VCPU_COUNT = 4_294_967_295;

/** Domain names: non-empty, no '/', no control characters (they become file names and CLI arguments). */
export function validateDomainName(name: string): void {
  if (name === '') throw virtError(ErrorCode.XML_ERROR, 'missing domain name information');
  if (name.includes('/')) throw virtError(ErrorCode.XML_ERROR, `name '${name}' cannot contain '/'`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw virtError(ErrorCode.XML_ERROR, `name ${JSON.stringify(name)} contains control characters`);
  if (name === '.' || name === '..') throw virtError(ErrorCode.XML_ERROR, `name '${name}' is not allowed`);
}

/** Checks the root element and domain-level fields before defaults are applied. */
export function validateDomainShape(def: DomainDef): void {
  const root = def.root;
  if (root.name !== 'domain') throw virtError(ErrorCode.XML_ERROR, `unexpected root element <${root.name}>, expecting <domain>`);
  const type = root.attr('type');
  if (type === undefined) throw virtError(ErrorCode.XML_ERROR, "missing domain type attribute");
  if (!DOMAIN_TYPES.has(type)) throw virtError(ErrorCode.XML_ERROR, `invalid domain type '${type}'`);
  validateDomainName(root.childText('name') ?? '');
  if (!root.child('memory') && !root.child('cpu')?.child('numa')) {
    throw virtError(ErrorCode.XML_ERROR, 'Memory size must be specified via <memory> or in the <numa> configuration');
  }
  const vcpu = root.childText('vcpu');
  if (vcpu !== undefined && !/^[1-9]\d*$/.test(vcpu)) throw virtError(ErrorCode.XML_ERROR, `invalid vcpu count '${vcpu}': expected a positive integer`);
  // libvirt reads the count as a C unsigned int.
  if (vcpu !== undefined && Number(vcpu) > MAX_VCPU_COUNT) throw virtError(ErrorCode.XML_ERROR, 'maximum vcpus count must be an integer');
  checkDeviceCount(root.child('devices'));
  for (const dev of def.peekDevices()) validateDevice(dev);
}

/** Cross-device checks: duplicate disk targets, controllers, user aliases, PCI addresses; and the definition's size. */
export function validateDevicesTogether(def: DomainDef): void {
  checkDefinitionSize(def.root);
  checkDevicesTogether(def);
}

/** validateDevicesTogether, formatting the definition while its size is checked: its UTF-8 bytes (what define stores). */
export function validateDevicesTogetherFormatted(def: DomainDef): Buffer {
  const bytes = formatWithinLimits(def.root);
  checkDevicesTogether(def);
  return bytes;
}

function checkDevicesTogether(def: DomainDef): void {
  checkDeviceCount(def.root.child('devices'));
  const targets = new Map<string, string>();
  for (const disk of def.peekNamed('disk')) {
    const t = disk.child('target')?.attr('dev') ?? '';
    // libvirt prints a missing source as '<null>' (NULLSTR).
    const source = diskSource(disk) ?? '<null>';
    const prev = targets.get(t);
    if (prev !== undefined) throw virtError(ErrorCode.XML_ERROR, `target '${t}' duplicated for disk sources '${prev}' and '${source}'`);
    targets.set(t, source);
  }
  const controllers = new Set<string>();
  for (const c of def.peekNamed('controller')) {
    const type = c.attr('type') ?? '';
    // Several USB controllers may share an index (EHCI with its UHCI companions): libvirt allows it.
    if (type === 'usb') continue;
    const index = Number(c.attr('index') ?? 0);
    const key = `${type}:${index}`;
    if (controllers.has(key)) throw virtError(ErrorCode.XML_ERROR, `Multiple '${type}' controllers with index '${index}'`);
    controllers.add(key);
  }
  const aliases = new Set<string>();
  for (const dev of def.peekDevices()) {
    // A serial console is its serial port printed twice: libvirt gives both the alias serialN.
    if (dev.name === 'console' && (dev.child('target')?.attr('type') ?? 'serial') === 'serial') continue;
    const a = readAlias(dev);
    if (a === undefined) continue;
    if (aliases.has(a)) throw virtError(ErrorCode.XML_ERROR, `non unique alias detected: ${a}`);
    aliases.add(a);
  }
  checkPciClashes(def);
}

/** Rejects two devices on one PCI function (libvirt: "Attempted double use of PCI Address"). */
export function checkPciClashes(def: DomainDef): void {
  const seen = new Map<number, string>();
  for (const e of def.peekDevices()) {
    // A serial console is the serial device itself, printed twice with the same address.
    if (e.name === 'console') continue;
    // The address as one number (no object per device); read in full only for the message.
    const key = pciAddressNumberOf(e);
    if (key < 0) continue;
    const prev = seen.get(key);
    if (prev) throw virtError(ErrorCode.XML_ERROR, `Attempted double use of PCI Address ${formatPciAddress(readPciAddress(e)!)} (by <${prev}> and <${e.name}>)`);
    seen.set(key, e.name);
  }
}
