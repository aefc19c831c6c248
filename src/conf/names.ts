/**
 * Names the backend chooses when a domain runs (libvirt's qemu_alias.c and the
 * tap naming of virnetdev.c / libxl): device aliases, `vnetN` taps from a
 * driver-wide counter, Xen's `vif<domid>.<devid>`, and QEMU's USB ports. They exist only in live XML.
 */
import type { XmlElement } from '../xml/index.js';
import { readDriveAddress } from './address.js';
import { readAlias, setAlias } from './devices/common.js';
import { hasHostSideName, setTargetDev } from './devices/interface.js';
import { diskNameToIndex } from './disk-names.js';
import type { DomainDef } from './domain.js';
import type { Flavour } from './flavour.js';
import { isQ35, isX86Arch } from './qemu/machine-kind.js';
import { assignUsbPorts } from './usb-ports.js';
import { own } from '../shared/own.js';

/** Host-side naming context for one running domain. */
export interface LiveNaming {
  domid: number;
  /** Next host-side name from the driver-wide, never-reused counter of that prefix (`vnet7`, `macvtap0`). */
  allocTap(prefix: 'vnet' | 'macvtap'): string;
  /** Next Xen NIC device id in this domain (creation sequence, never reused while it runs). */
  allocDevid(): number;
}

const simplePrefix: Record<string, string> = {
  input: 'input',
  video: 'video',
  serial: 'serial',
  parallel: 'parallel',
  channel: 'channel',
  rng: 'rng',
  watchdog: 'watchdog',
  hostdev: 'hostdev',
  sound: 'sound',
  filesystem: 'fs',
  redirdev: 'redir',
  smartcard: 'smartcard',
  tpm: 'tpm',
  hub: 'hub',
  shmem: 'shmem',
  vsock: 'vsock',
  memory: 'dimm',
  crypto: 'crypto',
};

/** Next free `<prefix>N` given the aliases already in use (max + 1, as libvirt does). */
function nextIndexed(prefix: string, used: Set<string>): string {
  let max = -1;
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}(\\d+)$`);
  for (const a of used) {
    const m = re.exec(a);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `${prefix}${max + 1}`;
}

/**
 * `console<N>` for a console that is not the serial one (qemuGetNextChrDevIndex): one past the highest
 * index among the other consoles' aliases, where a serial console's `serial<N>` counts as index N.
 */
function nextConsole(dev: XmlElement, def: DomainDef): string {
  let max = -1;
  for (const c of def.elementsNamed('console')) {
    if (c === dev) continue;
    const m = /^(?:console|serial)(\d+)$/.exec(readAlias(c) ?? '');
    if (m) max = Math.max(max, Number(m[1]));
  }
  return `console${max + 1}`;
}

function controllerAlias(dev: XmlElement, def: DomainDef): string {
  const type = dev.attr('type') ?? '';
  const index = Number(dev.attr('index') ?? 0);
  if (type === 'pci') return index === 0 && dev.attr('model') === 'pcie-root' ? 'pcie.0' : `pci.${index}`;
  if (index === 0 && (type === 'ide' || type === 'usb')) return type;
  if (index === 0 && type === 'sata' && isQ35(def)) return 'ide';
  return `${type}${index}`;
}

function diskAlias(dev: XmlElement, def: DomainDef): string | undefined {
  const target = dev.child('target');
  const bus = target?.attr('bus') ?? 'virtio';
  const drive = readDriveAddress(dev);
  if (drive) {
    if (bus === 'scsi') {
      const ctrl = def.elementsNamed('controller').find((c) => c.attr('type') === 'scsi' && Number(c.attr('index') ?? 0) === drive.controller);
      if (ctrl?.attr('model') === 'lsilogic') return `scsi${drive.controller}-${drive.bus}-${drive.unit}`;
      return `scsi${drive.controller}-${drive.bus}-${drive.target}-${drive.unit}`;
    }
    return `${bus}${drive.controller}-${drive.bus}-${drive.unit}`;
  }
  const idx = diskNameToIndex(target?.attr('dev') ?? '');
  return idx === undefined ? undefined : `${bus}-disk${idx}`;
}

/** The alias libvirt's QEMU driver would give this device, or undefined for kinds without one. */
function aliasFor(dev: XmlElement, def: DomainDef, used: Set<string>): string | undefined {
  switch (dev.name) {
    case 'disk':
      return diskAlias(dev, def);
    case 'controller':
      return controllerAlias(dev, def);
    case 'interface':
      return nextIndexed(dev.attr('type') === 'hostdev' ? 'hostdev' : 'net', used);
    case 'console': {
      // A serial console is the same device as serial0.
      const t = dev.child('target')?.attr('type');
      if (t === undefined || t === 'serial') return `serial${dev.child('target')?.attr('port') ?? 0}`;
      return nextConsole(dev, def);
    }
    case 'memballoon':
      // qemuAssignDeviceAliases skips a balloon of model 'none': there is no device to name.
      return dev.attr('model') === 'none' ? undefined : nextIndexed('balloon', used);
    default: {
      const p = own(simplePrefix, dev.name);
      return p ? nextIndexed(p, used) : undefined;
    }
  }
}

/**
 * Gives `devices` (default: all) their live names: alias, for NICs the host-side `<target dev>`, and on
 * QEMU x86 domains the USB port of USB devices (only a running domain has them, as in libvirt).
 */
export function assignLiveNames(def: DomainDef, flavour: Flavour, naming: LiveNaming, devices?: XmlElement[]): void {
  // USB ports are chosen when QEMU starts (hubs it adds get names below) or when a device is plugged.
  if (flavour.qemuDefaults && isX86Arch(def.arch ?? 'x86_64')) assignUsbPorts(def, devices);
  const used = new Set<string>();
  for (const d of def.deviceElements()) {
    const a = readAlias(d);
    if (a !== undefined) used.add(a);
  }
  for (const dev of devices ?? def.deviceElements()) {
    if (readAlias(dev) === undefined) {
      const alias = aliasFor(dev, def, used);
      if (alias !== undefined) {
        setAlias(dev, alias);
        used.add(alias);
      }
    }
    if (dev.name === 'interface') nameInterface(dev, flavour, naming);
  }
}

function nameInterface(dev: XmlElement, flavour: Flavour, naming: LiveNaming): void {
  const type = dev.attr('type') ?? '';
  if (flavour.family === 'xen') {
    if (type === 'hostdev') return;
    // Every Xen NIC consumes a devid, named or not: it is the netback device number.
    const devid = naming.allocDevid();
    if (dev.child('target')?.attr('dev') === undefined) setTargetDev(dev, `vif${naming.domid}.${devid}`);
    return;
  }
  if (!hasHostSideName(type)) return;
  if (dev.child('target')?.attr('dev') === undefined) setTargetDev(dev, naming.allocTap(type === 'direct' ? 'macvtap' : 'vnet'));
}
