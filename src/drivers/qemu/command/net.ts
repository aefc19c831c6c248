/**
 * An `<interface>` as QEMU objects: the netdev (`-netdev` / `netdev_add`) and the NIC (`-device` /
 * `device_add`), plus the host tap virtkit must create for `ethernet` and `bridge` interfaces. QEMU
 * (running as root) opens the tap by name: Node can neither issue TUNSETIFF nor pass the fd.
 */
import { readAlias } from '../../../conf/devices/common.js';
import type { DomainDef } from '../../../conf/domain.js';
import { ErrorCode, virtError } from '../../../errors.js';
import type { XmlElement } from '../../../xml/index.js';
import type { JsonObject } from '../qmp/protocol.js';
import { pciProps } from './placement.js';
import { checkQemuId } from './qemu-opts.js';
import { own } from '../../../shared/own.js';

export interface TapSpec {
  /** Interface name (`vnet3`, or the user's `<target dev>`). */
  name: string;
  /** Bridge to enslave it to (`bridge` interfaces). */
  bridge?: string;
  /** Host-side MAC: the guest MAC with the first byte replaced by 0xfe, as libvirt does (keeps the bridge's MAC stable). */
  mac: string;
  /** False for `<target dev='x' managed='no'/>`: the tap exists already and is never created or deleted by virtkit. */
  managed: boolean;
  /** Written to the tap's ifalias (`virtkit:<domain uuid>`), so a later process can find taps a killed one left. */
  tag?: string;
}

export interface NetObjects {
  netdev: JsonObject;
  device: JsonObject;
  tap?: TapSpec;
  /** `<link state='down'/>`: set with set_link once the NIC exists. */
  linkDown: boolean;
}

const MODELS: Record<string, string> = {
  virtio: 'virtio-net-pci',
  'virtio-transitional': 'virtio-net-pci-transitional',
  'virtio-non-transitional': 'virtio-net-pci-non-transitional',
  e1000: 'e1000',
  e1000e: 'e1000e',
  rtl8139: 'rtl8139',
};
/** libvirt's default NIC model on x86 when `<model>` is absent. */
const DEFAULT_MODEL = 'rtl8139';

/** Interface types the QEMU driver runs, and whether they need root (a tap). */
export const NET_TYPES: Record<string, { tap: boolean }> = { user: { tap: false }, ethernet: { tap: true }, bridge: { tap: true } };

/** Linux's dev_valid_name(): 1–15 bytes, not `.`/`..`, no '/', ':' or whitespace. */
export function checkIfName(name: string, what: string): string {
  const ok = name.length > 0 && Buffer.byteLength(name) <= 15 && name !== '.' && name !== '..' && !/[/:\s\0]/.test(name);
  if (!ok) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `${what} '${name}' is not a valid network interface name (1-15 characters, no '/', ':' or spaces, not '.' or '..')`);
  return name;
}

export function netdevId(alias: string): string {
  return `host${alias}`;
}

/** netdev and NIC of an interface of `def`. */
export function netObjects(def: DomainDef, iface: XmlElement): NetObjects {
  const type = iface.attr('type') ?? '';
  const alias = readAlias(iface);
  if (alias === undefined) throw virtError(ErrorCode.INTERNAL_ERROR, `interface of type '${type}' has no alias`);
  checkQemuId(alias, 'interface alias');
  if (!Object.hasOwn(NET_TYPES, type)) {
    throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `interface type '${type}' is not supported by virtkit's QEMU driver (use user, ethernet or bridge)`);
  }
  const mac = iface.child('mac')?.attr('address');
  if (mac === undefined) throw virtError(ErrorCode.INTERNAL_ERROR, `interface '${alias}' has no MAC address`);
  const modelName = iface.child('model')?.attr('type') ?? DEFAULT_MODEL;
  const driver = own(MODELS, modelName);
  if (!driver) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `interface model '${modelName}' is not supported by virtkit's QEMU driver`);
  const id = netdevId(alias);
  let netdev: JsonObject;
  let tap: TapSpec | undefined;
  if (type === 'user') netdev = { type: 'user', id };
  else {
    const target = iface.child('target');
    const name = target?.attr('dev');
    if (name === undefined) throw virtError(ErrorCode.INTERNAL_ERROR, `interface '${alias}' has no tap name`);
    checkIfName(name, 'tap name');
    let bridge: string | undefined;
    if (type === 'bridge') bridge = checkIfName(iface.child('source')?.attr('bridge') ?? '', 'bridge name');
    tap = { name, bridge, mac: `fe${mac.slice(2)}`, managed: target?.attr('managed') !== 'no' };
    netdev = { type: 'tap', id, ifname: name, script: 'no', downscript: 'no' };
  }
  const device: JsonObject = { driver, netdev: id, id: alias, mac, ...pciProps(def, iface) };
  const boot = iface.child('boot')?.attr('order');
  if (boot !== undefined) device.bootindex = Number(boot);
  return { netdev, device, tap, linkDown: iface.child('link')?.attr('state') === 'down' };
}
