/**
 * Rows for virsh's domblklist and domiflist, read from a domain's XML: which
 * disks and NICs a domain has and the names libvirt allocated for them.
 */
import { parseXml, type XmlElement } from '../xml/index.js';
import { checkStringArg } from './args.js';

/** One domblklist row; `type`/`device` are what `--details` adds. */
export interface DiskSummary {
  /** `<disk type>`: file, block, network, volume, dir. */
  type: string;
  /** `<disk device>`: disk, cdrom, floppy, lun. */
  device: string;
  /** `<target dev>`, e.g. `vda`. */
  target: string;
  /** Source path or name, `pool/volume` for volume disks; undefined when the drive is empty. */
  source?: string;
}

/** One domiflist row. */
export interface InterfaceSummary {
  /** `<target dev>` (vnet0, a user's tap); undefined when none was allocated. */
  interface?: string;
  /** `<interface type>`: network, bridge, direct, ethernet, user, ... */
  type: string;
  /** Network, bridge, host device or socket path, by type. */
  source?: string;
  /** `<model type>`, e.g. virtio. */
  model?: string;
  /** `<mac address>`. */
  mac?: string;
  /** `<alias name>`, e.g. `net0` (live XML only). */
  alias?: string;
}

function devices(domainXml: string, name: string): XmlElement[] {
  return parseXml(domainXml, { source: 'domain XML' }).child('devices')?.elements(name) ?? [];
}

function diskSource(disk: XmlElement): string | undefined {
  const s = disk.child('source');
  if (!s) return undefined;
  const pool = s.attr('pool');
  const volume = s.attr('volume');
  if (pool && volume) return `${pool}/${volume}`;
  return s.attr('file') ?? s.attr('dev') ?? s.attr('dir') ?? s.attr('name') ?? volume;
}

/** The disks of a domain in document order, as virsh domblklist lists them (disks without a target are skipped). */
export function listDisks(domainXml: string, _options: { details?: boolean } = {}): DiskSummary[] {
  checkStringArg(domainXml, 'domainXml', 'listDisks');
  const rows: DiskSummary[] = [];
  for (const disk of devices(domainXml, 'disk')) {
    const target = disk.child('target')?.attr('dev');
    if (!target) continue;
    rows.push({
      type: disk.attr('type') ?? 'file',
      device: disk.attr('device') ?? 'disk',
      target,
      source: diskSource(disk),
    });
  }
  return rows;
}

function interfaceSource(iface: XmlElement): string | undefined {
  const s = iface.child('source');
  if (!s) return undefined;
  return s.attr('bridge') ?? s.attr('dev') ?? s.attr('network') ?? s.attr('name') ?? s.attr('path');
}

/** The NICs of a domain in document order, as virsh domiflist lists them. */
export function listInterfaces(domainXml: string): InterfaceSummary[] {
  checkStringArg(domainXml, 'domainXml', 'listInterfaces');
  return devices(domainXml, 'interface').map((iface) => ({
    interface: iface.child('target')?.attr('dev'),
    type: iface.attr('type') ?? '',
    source: interfaceSource(iface),
    model: iface.child('model')?.attr('type'),
    mac: iface.child('mac')?.attr('address'),
    alias: iface.child('alias')?.attr('name'),
  }));
}
