/**
 * libvirt's hot-plug replies are void: no alias, no removed/pending. The remote driver reads the
 * live XML around the call and derives them the way a careful virsh user would: the alias of an
 * attached device is the one that appeared; a detached device still in the live XML is pending
 * (libvirt's "request sent"), gone is removed.
 */
import { DomainDef, findDevice, parseDeviceXml, readAlias } from '../../conf/index.js';
import { DeviceModify } from '../../shared/flags.js';
import { parseXml, type XmlElement } from '../../xml/index.js';

export interface LiveView {
  /** Running (the live XML carries the domain id). */
  active: boolean;
  /** alias → element name, for every device of the live XML with an alias. */
  aliases: Map<string, string>;
  def: DomainDef;
}

export function liveView(xml: string): LiveView {
  const root = parseXml(xml, { source: 'live domain XML' });
  const def = new DomainDef(root);
  const aliases = new Map<string, string>();
  for (const dev of def.deviceElements()) {
    const a = readAlias(dev);
    if (a !== undefined) aliases.set(a, dev.name);
  }
  return { active: root.attr('id') !== undefined, aliases, def };
}

/** Whether a call with `flags` touches the running domain (CURRENT means live when it runs). */
export function touchesLive(flags: number, active: boolean): boolean {
  if (flags & DeviceModify.LIVE) return true;
  return (flags & DeviceModify.CONFIG) === 0 && active;
}

/** The alias of the device an attach added: the one new alias (of the same element kind when several appeared). */
export function attachedAlias(before: LiveView, after: LiveView, deviceXml: string): string | undefined {
  const kind = elementName(deviceXml);
  const added = [...after.aliases].filter(([a]) => !before.aliases.has(a));
  const sameKind = added.filter(([, name]) => name === kind);
  const pick = sameKind.length === 1 ? sameKind : added.length === 1 ? added : [];
  return pick[0]?.[0];
}

/** The alias of the live device a detach XML names, as the daemon will match it (undefined when unsure). */
export function matchedAlias(view: LiveView, deviceXml: string): string | undefined {
  try {
    const parsed = parseDeviceXml(deviceXml, view.def.type, 'detach');
    return readAlias(findDevice(view.def, parsed.el, { macGenerated: parsed.macGenerated }));
  } catch {
    return undefined;
  }
}

/**
 * removed when the device left the live XML, pending while it is still there — or when the domain stopped
 * meanwhile: the guest never confirmed the unplug (what the embedded drivers report too).
 */
export function detachOutcome(before: LiveView, after: LiveView, alias: string | undefined): { outcome: 'removed' | 'pending'; alias?: string } {
  if (!after.active) return alias === undefined ? { outcome: 'pending' } : { outcome: 'pending', alias };
  if (alias !== undefined) return { outcome: after.aliases.has(alias) ? 'pending' : 'removed', alias };
  const gone = [...before.aliases.keys()].filter((a) => !after.aliases.has(a));
  if (gone.length === 1) return { outcome: 'removed', alias: gone[0] };
  return { outcome: gone.length > 1 ? 'removed' : 'pending' };
}

function elementName(xml: string): string | undefined {
  try {
    return (parseXml(xml, { source: 'device definition' }) as XmlElement).name;
  } catch {
    return undefined;
  }
}
