/**
 * Where a device sits on QEMU's buses, from the addresses in the definition (libvirt chooses bus and
 * slot itself instead of letting QEMU pick, and so does virtkit): PCI bus id + addr, drive addresses
 * on IDE/SATA/SCSI controllers, USB ports.
 */
import { readDriveAddress, readPciAddress } from '../../../conf/address.js';
import { readAlias } from '../../../conf/devices/common.js';
import type { DomainDef } from '../../../conf/domain.js';
import { isQ35 } from '../../../conf/qemu/machine-kind.js';
import { ErrorCode, virtError } from '../../../errors.js';
import type { XmlElement } from '../../../xml/index.js';
import type { JsonObject } from '../qmp/protocol.js';
import { pciAddrProp } from './qemu-opts.js';

/** QEMU's id of PCI bus `n`: the root is pci.0 (pc) or pcie.0 (q35), others are their controller's alias. */
export function pciBusId(def: DomainDef, n: number): string {
  if (n === 0) return isQ35(def) ? 'pcie.0' : 'pci.0';
  const ctrl = def.elementsNamed('controller').find((c) => c.attr('type') === 'pci' && Number(c.attr('index') ?? 0) === n);
  if (!ctrl) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `no PCI controller with index ${n} for a device on bus ${n}`);
  return readAlias(ctrl) ?? `pci.${n}`;
}

/** `bus`/`addr` (and `multifunction`) properties of a device with a PCI address; empty when it has none. */
export function pciProps(def: DomainDef, dev: XmlElement): JsonObject {
  const a = readPciAddress(dev);
  if (!a) return {};
  if (a.domain !== 0) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, 'PCI domains other than 0 are not supported');
  const props: JsonObject = { bus: pciBusId(def, a.bus) };
  if (a.multifunction === 'on') props.multifunction = true;
  props.addr = pciAddrProp(a.slot, a.function);
  return props;
}

/** The controller element of `type` with `index`, or a clear error. */
export function controllerOf(def: DomainDef, type: string, index: number, forWhat: string): XmlElement {
  const c = def.elementsNamed('controller').find((e) => e.attr('type') === type && Number(e.attr('index') ?? 0) === index);
  if (!c) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `${forWhat} needs ${type} controller ${index}, which the domain does not have`);
  return c;
}

/** Alias of a controller, as QEMU knows it (libvirt's alias is QEMU's id). */
export function controllerId(c: XmlElement): string {
  const alias = readAlias(c);
  if (alias === undefined) throw virtError(ErrorCode.INTERNAL_ERROR, `controller ${c.attr('type')} ${c.attr('index') ?? 0} has no alias`);
  return alias;
}

/** Drive address of a disk (after defaults every IDE/SATA/SCSI disk has one). */
export function driveAddress(disk: XmlElement, target: string): { controller: number; bus: number; target: number; unit: number } {
  const a = readDriveAddress(disk);
  if (!a) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk '${target}' has no drive address`);
  return a;
}

/** USB bus and port of a USB device: `{ bus: 'usb.0', port: '1' }`, or empty when it has no USB address. */
export function usbProps(def: DomainDef, dev: XmlElement): JsonObject {
  const a = dev.child('address');
  if (a?.attr('type') !== 'usb') return {};
  const busIndex = Number(a.attr('bus') ?? 0);
  const ctrl = controllerOf(def, 'usb', busIndex, `USB device '${readAlias(dev) ?? dev.name}'`);
  const port = a.attr('port');
  return port === undefined ? { bus: `${controllerId(ctrl)}.0` } : { bus: `${controllerId(ctrl)}.0`, port };
}
