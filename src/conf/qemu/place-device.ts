/**
 * Where a device hot-plugged into a running QEMU domain goes: its defaults and drive address, the
 * controller it needs (a SCSI controller or virtio-serial controller is plugged with it), then a
 * hot-pluggable PCI slot and, for virtio channels, a virtio-serial port.
 */
import { el, type XmlElement } from '../../xml/index.js';
import { readDriveAddress } from '../address.js';
import type { QemuHost } from '../caps/types.js';
import type { DomainDef } from '../domain.js';
import { qemuContext } from './context.js';
import { deviceDefaults } from './device-defaults.js';
import { isX86Arch } from './machine-kind.js';
import { ensurePciAddress } from './pci-assign.js';
import { controllerIndexes, MAX_IMPLICIT_CONTROLLER_INDEX } from './implicit-controllers.js';
import { ErrorCode, virtError } from '../../errors.js';
import { assignVirtioSerialAddresses } from './virtio-serial.js';

function hasController(def: DomainDef, type: string, index: number): boolean {
  return def.elementsNamed('controller').some((c) => c.attr('type') === type && Number(c.attr('index') ?? 0) === index);
}

export function placeQemuDevice(def: DomainDef, dev: XmlElement, host: QemuHost): void {
  const ctx = qemuContext(def, host);
  deviceDefaults(def, dev, ctx);
  if (!ctx.caps || !isX86Arch(ctx.arch)) return;
  const added: XmlElement[] = [];
  if (dev.name === 'disk' && dev.child('target')?.attr('bus') === 'scsi') {
    // Every SCSI controller up to the disk's is plugged first (qemuDomainFindOrCreateSCSIDiskController).
    const a = readDriveAddress(dev);
    if (a && !hasController(def, 'scsi', a.controller)) {
      if (a.controller > MAX_IMPLICIT_CONTROLLER_INDEX) {
        throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk '${dev.child('target')?.attr('dev') ?? ''}': drive address controller='${a.controller}' is above ${MAX_IMPLICIT_CONTROLLER_INDEX}, the highest controller added automatically`);
      }
      const present = controllerIndexes(def).get('scsi') ?? new Set<number>();
      for (let i = 0; i <= a.controller; i++) {
        if (present.has(i)) continue;
        const c = el('controller', { type: 'scsi', index: i });
        def.addDevice(c);
        deviceDefaults(def, c, ctx);
        added.push(c);
      }
    }
  }
  const isVirtioChr = (dev.name === 'channel' || dev.name === 'console') && dev.child('target')?.attr('type') === 'virtio';
  if (isVirtioChr && !def.elementsNamed('controller').some((c) => c.attr('type') === 'virtio-serial')) {
    const c = el('controller', { type: 'virtio-serial', index: 0 });
    def.addDevice(c);
    added.push(c);
  }
  for (const c of added) ensurePciAddress(def, c, ctx.caps);
  ensurePciAddress(def, dev, ctx.caps);
  if (isVirtioChr) assignVirtioSerialAddresses(def);
}
