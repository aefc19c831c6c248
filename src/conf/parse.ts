/**
 * Entry points from XML text to validated definitions: a whole domain for
 * define/create, a single device for attach/detach/update.
 */
import { parseXml, type XmlElement } from '../xml/index.js';
import { applyDeviceDefaults, applyDomainDefaults, type DefaultsOptions } from './defaults.js';
import { stripNonUserAlias } from './devices/common.js';
import { validateDevice } from './devices/index.js';
import { defaultInterfaceType, stripGeneratedTarget } from './devices/interface.js';
import { DomainDef } from './domain.js';
import { flavourOf, type Flavour } from './flavour.js';
import { validateDevicesTogether, validateDevicesTogetherFormatted, validateDomainShape } from './validate.js';

/** Removes what only a running hypervisor may write (inactive parse): domain id, non-`ua-` aliases, generated tap names. */
export function stripRuntimeNames(dev: XmlElement, flavour: Flavour): void {
  stripNonUserAlias(dev);
  if (dev.name === 'interface') stripGeneratedTarget(dev, flavour.reservedTargetPrefixes);
}

/** Parses, validates and fills defaults for a domain definition (define / createXML). */
export function parseDomainXml(xml: string, options: DefaultsOptions = {}): DomainDef {
  return normalizeDomainDef(new DomainDef(parseXml(xml, { source: 'domain definition', dropLayout: true })), options);
}

/**
 * What define does to a parsed domain, in place: validation, runtime names dropped, defaults filled
 * in. The device elements stay the same objects (implicit devices are added beside them), so a caller
 * can tell what the XML stated from what define added (declarative devices).
 */
export function normalizeDomainDef(def: DomainDef, options: DefaultsOptions = {}): DomainDef {
  // One index of <devices> serves every lookup of the normalization and the checks.
  return def.withDeviceIndex(() => {
    normalizeUnchecked(def, options);
    validateDevicesTogether(def);
    return def;
  });
}

/**
 * parseDomainXml for define, which stores the definition: the size check formats it, and those
 * bytes (toUtf8() of the definition as returned) come back with it instead of a second format.
 */
export function parseDomainXmlFormatted(xml: string, options: DefaultsOptions = {}): { def: DomainDef; utf8: Buffer } {
  const def = new DomainDef(parseXml(xml, { source: 'domain definition', dropLayout: true }));
  return def.withDeviceIndex(() => {
    normalizeUnchecked(def, options);
    return { def, utf8: validateDevicesTogetherFormatted(def) };
  });
}

/** normalizeDomainDef without its last step, the checks across devices. */
function normalizeUnchecked(def: DomainDef, options: DefaultsOptions): DomainDef {
  for (const iface of def.peekNamed('interface')) defaultInterfaceType(iface);
  validateDomainShape(def);
  const flavour = flavourOf(def.type);
  def.root.removeAttr('id');
  for (const dev of def.peekDevices()) stripRuntimeNames(dev, flavour);
  applyDomainDefaults(def, flavour, options);
  return def;
}

export type DevicePurpose = 'attach' | 'detach' | 'update';

export interface ParsedDevice {
  el: XmlElement;
  /** The `<mac>` was absent and had to be generated: it must not be used for matching. */
  macGenerated: boolean;
}

/**
 * Parses one device element for a hot-plug call on a domain of `domainType`.
 * Attach parses as inactive XML (runtime names dropped, defaults applied);
 * detach/update keep alias and address, because libvirt matches on them.
 */
export function parseDeviceXml(xml: string, domainType: string, purpose: DevicePurpose): ParsedDevice {
  const el = parseXml(xml, { source: 'device definition', dropLayout: true });
  const flavour = flavourOf(domainType);
  const forMatch = purpose === 'detach';
  if (!forMatch && el.name === 'interface') defaultInterfaceType(el);
  // A config detach may name a disk by its source path in <target dev='/path'>, which disk validation refuses.
  const pathTarget = purpose === 'detach' && el.name === 'disk' && el.child('target')?.attr('dev')?.startsWith('/');
  if (!pathTarget) validateDevice(el, forMatch);
  if (purpose === 'attach') stripRuntimeNames(el, flavour);
  let macGenerated = false;
  if (el.name === 'interface' && el.child('mac')?.attr('address') === undefined) macGenerated = true;
  // Detach/update XML keeps exactly what the caller wrote: defaults would invent fields to compare.
  if (purpose === 'attach') applyDeviceDefaults(el, flavour);
  return { el, macGenerated };
}
