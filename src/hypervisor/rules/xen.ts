/**
 * What libxl lets a running Xen domain plug and unplug (libvirt's libxlDomainAttachDeviceLive /
 * DetachDeviceLive): disks on the xen bus, interfaces, host devices, USB controllers and
 * redirected USB devices; anything else is VIR_ERR_CONFIG_UNSUPPORTED, as libxl reports it.
 */
import type { DomainDef } from '../../conf/index.js';
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';
import { checkNewDiskTarget } from './common.js';
import type { HotplugRules } from './types.js';

const LIVE_KINDS = new Set(['disk', 'interface', 'hostdev', 'controller', 'redirdev']);

function checkDisk(dev: XmlElement, verb: 'hotplugged' | 'hot unplugged'): void {
  const device = dev.attr('device') ?? 'disk';
  const bus = dev.child('target')?.attr('bus') ?? '';
  // A cdrom's medium changes through update-device, not a plug.
  if (device !== 'disk') throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk device type '${device}' cannot be ${verb}`);
  if (bus !== 'xen') throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `disk bus '${bus}' cannot be ${verb}.`);
}

function checkController(dev: XmlElement, verb: 'hot plugged' | 'hot unplugged'): void {
  if (dev.attr('type') !== 'usb') throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `'${dev.attr('type')}' controller cannot be ${verb}.`);
}

function checkLiveAttach(dev: XmlElement, live: DomainDef): void {
  if (!LIVE_KINDS.has(dev.name)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `device type '${dev.name}' cannot be attached`);
  if (dev.name === 'disk') checkDisk(dev, 'hotplugged');
  if (dev.name === 'controller') checkController(dev, 'hot plugged');
  // libxlDomainAttachDeviceDiskLive: after the bus, the target.
  checkNewDiskTarget(dev, live.deviceElements(), ErrorCode.OPERATION_FAILED);
}

function checkLiveDetach(dev: XmlElement): void {
  if (!LIVE_KINDS.has(dev.name)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `device type '${dev.name}' cannot be detached`);
  if (dev.name === 'disk') checkDisk(dev, 'hot unplugged');
  if (dev.name === 'controller') checkController(dev, 'hot unplugged');
  // Unplugs are addressed by alias in virtkit's engine, whatever the hypervisor.
  if (!dev.child('alias')?.attr('name')) throw virtError(ErrorCode.INTERNAL_ERROR, `Cannot detach ${dev.name} device with no alias`);
}

export const xenRules: HotplugRules = { hypervisor: 'xen', checkLiveAttach, checkLiveDetach };
