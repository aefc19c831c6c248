/**
 * Device XML from virsh's shorthand options (attach-disk, attach-interface) and
 * the "match XML" virsh sends for detach-disk, detach-interface and change-media,
 * cut from the domain's own definition. Pure functions over our XML tree: the
 * CLI and any other caller get the same documents.
 */
import { ErrorCode, VirtError } from '../errors.js';
import { checkFieldsArg, checkStringArg } from './args.js';
import { el, parseXml, serializeXml, type XmlElement } from '../xml/index.js';

/** virsh attach-disk's options (`virsh help attach-disk`). */
export interface DiskBuildOptions {
  /** File or block path; volume name for network disks; empty/undefined = no media (CD-ROM). */
  source?: string;
  /** `<target dev>`, e.g. `vdb`; mandatory like in libvirt. */
  target: string;
  /** `<target bus>`: virtio, scsi, sata, usb, ide, ... */
  targetBus?: string;
  /** `<driver name>`, e.g. `qemu`. */
  driver?: string;
  /** `<driver type>`: the image format, e.g. `qcow2` or `raw`. */
  subdriver?: string;
  /** `<driver cache>`: none, writeback, ... */
  cache?: string;
  /** `<driver io>`: native, threads, io_uring. */
  io?: string;
  /** `<driver iothread>`. */
  iothread?: string | number;
  /** Device kind (`<disk device>`): disk (default), cdrom, floppy, lun. */
  type?: string;
  /** readonly or shareable. */
  mode?: string;
  /** `<disk type>`: file (default), block, network. */
  sourceType?: string;
  serial?: string;
  wwn?: string;
  /** User alias; libvirt keeps only `ua-` aliases. */
  alias?: string;
  /** `rawio='yes'` (lun only in libvirt). */
  rawio?: boolean;
  /** virsh address syntax: `pci:D.B.S.F`, `scsi:C.B.U`, `ide:C.B.U`, `sata:C.B.U`, `usb:B.P`, `ccw:C.S.D`. */
  address?: string;
  /** `multifunction='on'` on a PCI address. */
  multifunction?: boolean;
  /** Network disks: protocol (rbd, nbd, iscsi, ...). */
  sourceProtocol?: string;
  /** Network disks: `host[:port]`. */
  sourceHostName?: string;
  /** Network disks: tcp, unix, rdma. */
  sourceHostTransport?: string;
  /** Network disks over a unix socket. */
  sourceHostSocket?: string;
}

/** virsh attach-interface's options (`virsh help attach-interface`). */
export interface InterfaceBuildOptions {
  /** network, bridge, direct, hostdev, vhostuser, ethernet, user. */
  type: string;
  /** Network name, bridge name, host device, PCI address or socket path, by type. */
  source?: string;
  /** `<target dev>`: host-side tap name. */
  target?: string;
  mac?: string;
  /** `<model type>`: virtio, e1000e, rtl8139, ... */
  model?: string;
  /** `<script path>` (bridge/ethernet). */
  script?: string;
  alias?: string;
  /** `average[,peak[,burst[,floor]]]` in KiB/s. */
  inbound?: string;
  /** `average[,peak[,burst]]` in KiB/s. */
  outbound?: string;
  /** `managed='yes'` (meaningful for hostdev; virsh writes it for any type). */
  managed?: boolean;
  /** vhostuser (mandatory): server|client; direct: the macvtap mode (vepa, bridge, private, passthrough). */
  sourceMode?: string;
}

/** What change-media does to the drive. */
export type MediaAction = 'eject' | 'insert' | 'update';

/** change-media's options. */
export interface MediaChangeOptions {
  action: MediaAction;
  /** New media path (insert/update). */
  source?: string;
  /** The source is a block device (`<source dev>`), not a file. */
  block?: boolean;
}

const DISK_SOURCE_TYPES = new Set(['file', 'block', 'network']);
const DISK_MODES = new Set(['readonly', 'shareable']);
const NIC_TYPES_WITH_SOURCE = new Set(['network', 'bridge', 'direct', 'hostdev', 'vhostuser']);
const NIC_TYPES = new Set([...NIC_TYPES_WITH_SOURCE, 'ethernet', 'user']);

function invalid(message: string): VirtError {
  return new VirtError(ErrorCode.INVALID_ARG, message);
}

function oneOf(value: string | undefined, allowed: Set<string>, what: string): void {
  if (value !== undefined && !allowed.has(value)) {
    throw invalid(`unsupported ${what} '${value}': expected ${[...allowed].join(', ')}`);
  }
}

function hex(value: number, digits: number): string {
  return '0x' + value.toString(16).padStart(digits, '0');
}

/** Splits `a.b.c` (virsh accepts any single separator) into numbers of the given radix. */
function addressParts(text: string, count: number, radix: number, spec: string): number[] {
  const parts = text.split(/[.:]/);
  const nums = parts.map((p) => (/^(0x)?[0-9a-f]+$/i.test(p) ? Number.parseInt(p.replace(/^0x/i, ''), radix) : Number.NaN));
  if (parts.length !== count || nums.some((n) => Number.isNaN(n))) throw invalid(`invalid address '${text}': expected ${spec}`);
  return nums;
}

/** Parses virsh's `--address` syntax into an `<address>` element. */
export function buildAddressElement(spec: string, multifunction = false): XmlElement {
  checkStringArg(spec, 'spec', 'buildAddressElement');
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? '' : spec.slice(0, colon);
  const rest = spec.slice(colon + 1);
  switch (kind) {
    case 'pci': {
      const [domain, bus, slot, fn] = addressParts(rest, 4, 16, 'pci:DOMAIN.BUS.SLOT.FUNCTION');
      return el('address', {
        type: 'pci',
        domain: hex(domain!, 4),
        bus: hex(bus!, 2),
        slot: hex(slot!, 2),
        function: hex(fn!, 1),
        multifunction: multifunction ? 'on' : undefined,
      });
    }
    case 'scsi':
    case 'ide':
    case 'sata': {
      const [controller, bus, unit] = addressParts(rest, 3, 10, `${kind}:CONTROLLER.BUS.UNIT`);
      return el('address', { type: 'drive', controller: controller!, bus: bus!, unit: unit! });
    }
    case 'usb': {
      const [bus, port] = addressParts(rest, 2, 10, 'usb:BUS.PORT');
      return el('address', { type: 'usb', bus: bus!, port: port! });
    }
    case 'ccw': {
      const [cssid, ssid, devno] = addressParts(rest, 3, 16, 'ccw:CSSID.SSID.DEVNO');
      return el('address', { type: 'ccw', cssid: hex(cssid!, 2), ssid: hex(ssid!, 1), devno: hex(devno!, 4) });
    }
    default:
      throw invalid(`invalid address '${spec}': expected pci:, scsi:, ide:, sata:, usb: or ccw: followed by numbers`);
  }
}

/** `host[:port]` as virsh splits it (at the first ':'), keeping a bracketed IPv6 address whole. */
function splitHostPort(text: string): [string, string | undefined] {
  const close = text.startsWith('[') ? text.indexOf(']') : -1;
  const colon = text.indexOf(':', Math.max(close, 0));
  return colon < 0 ? [text, undefined] : [text.slice(0, colon), text.slice(colon + 1)];
}

function networkDiskSource(opts: DiskBuildOptions): XmlElement {
  if (!opts.sourceProtocol) throw invalid('a network disk needs a source protocol (rbd, nbd, iscsi, ...)');
  const source = el('source', { protocol: opts.sourceProtocol, name: opts.source });
  if (opts.sourceHostName !== undefined || opts.sourceHostSocket !== undefined || opts.sourceHostTransport !== undefined) {
    const [name, port] = opts.sourceHostName === undefined ? [undefined, undefined] : splitHostPort(opts.sourceHostName);
    source.append(el('host', { transport: opts.sourceHostTransport, name, port, socket: opts.sourceHostSocket }));
  }
  return source;
}

/**
 * The `<disk>` element virsh attach-disk builds for these options: a source
 * protocol makes a network disk (as `--sourcetype network`); the device type is
 * written as given (the driver's parser judges it), like virsh does.
 */
export function buildDiskElement(opts: DiskBuildOptions): XmlElement {
  checkFieldsArg(opts, 'opts', 'buildDiskElement', { booleans: ['rawio', 'multifunction'], numeric: ['iothread'] });
  if (!opts.target) throw invalid('disk target is required (e.g. vdb)');
  oneOf(opts.sourceType, DISK_SOURCE_TYPES, 'disk source type');
  oneOf(opts.mode, DISK_MODES, 'disk mode');
  const sourceType = opts.sourceType ?? (opts.sourceProtocol ? 'network' : 'file');
  if (opts.sourceProtocol && sourceType !== 'network') throw invalid('--source-protocol option requires --sourcetype network');
  const disk = el('disk', { type: sourceType, device: opts.type, rawio: opts.rawio ? 'yes' : undefined });
  const driver = el('driver', {
    name: opts.driver,
    type: opts.subdriver,
    iothread: opts.iothread,
    cache: opts.cache,
    io: opts.io,
  });
  if (driver.attrs.length > 0) disk.append(driver);
  if (sourceType === 'network') disk.append(networkDiskSource(opts));
  else if (opts.source !== undefined) disk.append(el('source', sourceType === 'block' ? { dev: opts.source } : { file: opts.source }));
  disk.append(el('target', { dev: opts.target, bus: opts.targetBus }));
  if (opts.mode) disk.append(el(opts.mode));
  if (opts.serial) disk.append(el('serial', {}, opts.serial));
  if (opts.alias) disk.append(el('alias', { name: opts.alias }));
  if (opts.wwn) disk.append(el('wwn', {}, opts.wwn));
  if (opts.address) disk.append(buildAddressElement(opts.address, opts.multifunction));
  return disk;
}

/** `<disk>` XML text for virsh attach-disk's options. */
export function buildDiskXml(opts: DiskBuildOptions): string {
  return serializeXml(buildDiskElement(opts));
}

const RATE_FIELDS = ['average', 'peak', 'burst', 'floor'] as const;
/** Rates are unsigned 64-bit in libvirt. */
const MAX_RATE = 18446744073709551615n;

/** virsh's rate string `average[,peak[,burst[,floor]]]` (KiB/s; empty fields and zeros are left out). */
function bandwidthElement(name: 'inbound' | 'outbound', spec: string): XmlElement {
  const parts = spec.split(',');
  if (parts.length > RATE_FIELDS.length) throw invalid(`Rate string '${spec}' has too many fields`);
  const rate: Partial<Record<(typeof RATE_FIELDS)[number], string>> = {};
  parts.forEach((p, i) => {
    if (p === '') return;
    const field = RATE_FIELDS[i]!;
    const m = /^\s*\+?(\d+)$/.exec(p);
    if (!m || BigInt(m[1]!) > MAX_RATE) throw invalid(`field '${field}' is malformed`);
    const v = BigInt(m[1]!);
    if (v !== 0n) rate[field] = v.toString();
  });
  if (name === 'inbound' && !rate.average && !rate.floor) throw invalid('either inbound average or floor is mandatory');
  if (name === 'outbound') {
    if (!rate.average) throw invalid('outbound average is mandatory');
    if (rate.floor) throw invalid('outbound floor is unsupported yet');
  }
  return el(name, { average: rate.average, peak: rate.peak, burst: rate.burst, floor: rate.floor });
}

/** Host PCI address `DOMAIN:BUS:SLOT.FUNCTION` (hex) of a hostdev interface, as virsh reads it. */
function hostPciAddress(text: string): XmlElement {
  const hexNum = '((?:0x)?[0-9a-f]{1,8})';
  const m = new RegExp(`^${hexNum}:${hexNum}:${hexNum}\\.${hexNum}$`, 'i').exec(text);
  if (!m) throw invalid(`cannot parse pci address '${text}' for network interface`);
  const [domain, bus, slot, fn] = m.slice(1, 5).map((s) => Number.parseInt(s!.replace(/^0x/i, ''), 16));
  return el('address', { type: 'pci', domain: hex(domain!, 4), bus: hex(bus!, 2), slot: hex(slot!, 2), function: hex(fn!, 1) });
}

function interfaceSource(opts: InterfaceBuildOptions): XmlElement | undefined {
  const src = opts.source ?? '';
  switch (opts.type) {
    case 'network':
      return el('source', { network: src });
    case 'bridge':
      return el('source', { bridge: src });
    case 'direct':
      return el('source', { dev: src, mode: opts.sourceMode });
    case 'vhostuser':
      return el('source', { type: 'unix', path: src, mode: opts.sourceMode });
    case 'hostdev':
      return el('source', {}, hostPciAddress(src));
    default:
      return undefined;
  }
}

/**
 * The `<interface>` element virsh attach-interface builds for these options
 * (virsh builds network, bridge, direct, hostdev and vhostuser; ethernet and user
 * are a library extension). The MAC is written as given: the driver's parser
 * judges it when the device is attached, as libvirt's does.
 */
export function buildInterfaceElement(opts: InterfaceBuildOptions): XmlElement {
  checkFieldsArg(opts, 'opts', 'buildInterfaceElement', { booleans: ['managed'] });
  oneOf(opts.type, NIC_TYPES, 'interface type');
  if (NIC_TYPES_WITH_SOURCE.has(opts.type) && !opts.source) throw invalid(`interface type '${opts.type}' needs a source`);
  if (opts.type === 'vhostuser') {
    if (opts.sourceMode === undefined) throw invalid('source-mode is mandatory');
    if (opts.sourceMode !== 'server' && opts.sourceMode !== 'client') throw invalid(`Invalid source mode: ${opts.sourceMode}`);
  }
  const iface = el('interface', { type: opts.type, managed: opts.managed ? 'yes' : undefined });
  const source = interfaceSource(opts);
  if (source) iface.append(source);
  if (opts.target) iface.append(el('target', { dev: opts.target }));
  if (opts.mac) iface.append(el('mac', { address: opts.mac }));
  if (opts.script) iface.append(el('script', { path: opts.script }));
  if (opts.model) iface.append(el('model', { type: opts.model }));
  if (opts.alias) iface.append(el('alias', { name: opts.alias }));
  if (opts.inbound || opts.outbound) {
    const bw = el('bandwidth');
    if (opts.inbound) bw.append(bandwidthElement('inbound', opts.inbound));
    if (opts.outbound) bw.append(bandwidthElement('outbound', opts.outbound));
    iface.append(bw);
  }
  return iface;
}

/** `<interface>` XML text for virsh attach-interface's options. */
export function buildInterfaceXml(opts: InterfaceBuildOptions): string {
  return serializeXml(buildInterfaceElement(opts));
}

function devicesOf(domainXml: string): XmlElement[] {
  const root = parseXml(domainXml, { source: 'domain XML' });
  return root.child('devices')?.elements() ?? [];
}

/** Every path-like attribute a disk `<source>` may carry (virsh matches all of them). */
function diskSourcePath(disk: XmlElement): string | undefined {
  const s = disk.child('source');
  if (!s) return undefined;
  return s.attr('file') ?? s.attr('dev') ?? s.attr('dir') ?? s.attr('name') ?? s.attr('volume');
}

function isRemovable(disk: XmlElement): boolean {
  const device = disk.attr('device');
  return device === 'cdrom' || device === 'floppy';
}

/**
 * The `<disk>` of a domain whose target (`vdb`) or source path equals `targetOrPath`,
 * as virsh detach-disk and change-media find it. `removable` keeps CD-ROM/floppy drives only.
 */
export function findDiskElement(domainXml: string, targetOrPath: string, removable = false): XmlElement {
  checkStringArg(domainXml, 'domainXml', 'findDiskElement');
  checkStringArg(targetOrPath, 'targetOrPath', 'findDiskElement');
  for (const d of devicesOf(domainXml)) {
    if (d.name !== 'disk' || (removable && !isRemovable(d))) continue;
    if (d.child('target')?.attr('dev') === targetOrPath || diskSourcePath(d) === targetOrPath) return d;
  }
  throw new VirtError(ErrorCode.DEVICE_MISSING, `No disk found whose source path or target is ${targetOrPath}`);
}

/** virsh detach-disk's device XML: the matching `<disk>` cut from `domainXml`. */
export function buildDiskMatchXml(domainXml: string, targetOrPath: string): string {
  return serializeXml(findDiskElement(domainXml, targetOrPath));
}

/** virsh detach-interface's device XML: the `<interface>` of this type (and MAC) cut from `domainXml`. */
export function buildInterfaceMatchXml(domainXml: string, type: string, mac?: string): string {
  checkStringArg(domainXml, 'domainXml', 'buildInterfaceMatchXml');
  checkStringArg(type, 'type', 'buildInterfaceMatchXml');
  if (mac !== undefined) checkStringArg(mac, 'mac', 'buildInterfaceMatchXml');
  const ofType = devicesOf(domainXml).filter((d) => d.name === 'interface' && d.attr('type') === type);
  if (ofType.length === 0) throw new VirtError(ErrorCode.DEVICE_MISSING, `No interface found whose type is ${type}`);
  if (mac === undefined) {
    if (ofType.length > 1) {
      throw new VirtError(
        ErrorCode.OPERATION_FAILED,
        `Domain has ${ofType.length} interfaces. Please specify which one to detach using --mac`,
      );
    }
    return serializeXml(ofType[0]!);
  }
  const wanted = mac.toLowerCase();
  const hits = ofType.filter((d) => d.child('mac')?.attr('address')?.toLowerCase() === wanted);
  if (hits.length === 0) throw new VirtError(ErrorCode.DEVICE_MISSING, `No interface with MAC address ${mac} was found`);
  if (hits.length > 1) {
    throw new VirtError(
      ErrorCode.OPERATION_FAILED,
      `Domain has multiple interfaces matching MAC address ${mac}. You must use detach-device and specify the device pci address to remove it.`,
    );
  }
  return serializeXml(hits[0]!);
}

/**
 * virsh change-media's update XML: the CD-ROM/floppy `<disk>` at `path` (target or
 * source) from `domainXml` with its `<source>` removed, added or replaced.
 */
export function buildMediaChangeXml(domainXml: string, path: string, opts: MediaChangeOptions): string {
  checkStringArg(domainXml, 'domainXml', 'buildMediaChangeXml');
  checkStringArg(path, 'path', 'buildMediaChangeXml');
  checkFieldsArg(opts, 'opts', 'buildMediaChangeXml', { booleans: ['block'] });
  const disk = findDiskElement(domainXml, path, true).clone();
  const target = disk.child('target')?.attr('dev') ?? path;
  const current = disk.child('source');
  // virsh: --update without a source ejects; --eject ignores any source given.
  const eject = opts.action === 'eject' || (opts.action === 'update' && !opts.source);
  if (eject) {
    if (!current) throw new VirtError(ErrorCode.OPERATION_INVALID, `The disk device '${target}' doesn't have media`);
    disk.removeChildren('source');
    return serializeXml(disk);
  }
  if (!opts.source) throw invalid('New disk media source was not specified');
  if (opts.action === 'insert' && current) {
    throw new VirtError(ErrorCode.OPERATION_INVALID, `The disk device '${target}' already has media`);
  }
  disk.removeChildren('source');
  disk.setAttr('type', opts.block ? 'block' : 'file');
  const source = el('source', opts.block ? { dev: opts.source } : { file: opts.source });
  const targetEl = disk.child('target');
  disk.insert(source, targetEl ? disk.children.indexOf(targetEl) : 0);
  return serializeXml(disk);
}
