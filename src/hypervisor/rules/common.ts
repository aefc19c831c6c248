/** Hot-plug checks every hypervisor shares (libvirt's generic ones in domain_conf.c and the drivers). */
import { ErrorCode, virtError } from '../../errors.js';
import { diskSource } from '../../conf/devices/disk.js';
import type { XmlElement } from '../../xml/index.js';

/** A controller still used by a disk or hostdev cannot go (libvirt: "device is busy"). */
export function checkControllerUnused(ctrl: XmlElement, devices: XmlElement[]): void {
  if (ctrl.name !== 'controller') return;
  const type = ctrl.attr('type');
  const index = ctrl.attr('index') ?? '0';
  const busy = devices.some((d) => {
    const a = d.child('address');
    return a?.attr('type') === 'drive' && (a.attr('controller') ?? '0') === index && d.child('target')?.attr('bus') === type;
  });
  if (busy) throw virtError(ErrorCode.OPERATION_FAILED, 'device cannot be detached: device is busy');
}

/**
 * A live disk whose target a disk of the running domain has (qemuDomainAttachDeviceDiskLiveInternal:
 * virDomainDiskDefCheckDuplicateInfo, the existing disk's source first, a missing one as '<null>').
 */
export function checkLiveDiskTarget(dev: XmlElement, devices: XmlElement[]): void {
  if (dev.name !== 'disk') return;
  const t = dev.child('target')?.attr('dev');
  const old = devices.find((d) => d.name === 'disk' && d.child('target')?.attr('dev') === t);
  if (old) {
    throw virtError(ErrorCode.XML_ERROR, `target '${t}' duplicated for disk sources '${diskSource(old) ?? '<null>'}' and '${diskSource(dev) ?? '<null>'}'`);
  }
}

/** Attaching a disk whose target is taken (libvirt: "target %s already exists"). */
export function checkNewDiskTarget(dev: XmlElement, devices: XmlElement[], code: number): void {
  if (dev.name !== 'disk') return;
  const t = dev.child('target')?.attr('dev');
  if (devices.some((d) => d.name === 'disk' && d.child('target')?.attr('dev') === t)) {
    throw virtError(code, `target ${t} already exists`);
  }
}

export function checkNewController(dev: XmlElement, devices: XmlElement[]): void {
  if (dev.name !== 'controller') return;
  const type = dev.attr('type');
  const index = dev.attr('index') ?? '0';
  if (devices.some((d) => d.name === 'controller' && d.attr('type') === type && (d.attr('index') ?? '0') === index)) {
    throw virtError(ErrorCode.OPERATION_FAILED, `target ${type}:${index} already exists`);
  }
}
