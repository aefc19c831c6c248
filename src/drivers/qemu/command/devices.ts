/**
 * Controllers, character devices and the small devices of a domain as QEMU arguments. A device kind
 * virtkit's QEMU driver does not run is refused with CONFIG_UNSUPPORTED naming it, never dropped.
 */
import { readAlias } from '../../../conf/devices/common.js';
import type { DomainDef } from '../../../conf/domain.js';
import { isQ35 } from '../../../conf/qemu/machine-kind.js';
import { ErrorCode, virtError } from '../../../errors.js';
import type { XmlElement } from '../../../xml/index.js';
import type { JsonObject } from '../qmp/protocol.js';
import { controllerId, pciProps, usbProps } from './placement.js';
import { absolutePath, checkQemuId, optValue } from './qemu-opts.js';
import { own } from '../../../shared/own.js';

const unsupported = (what: string): never => {
  throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `${what} is not supported by virtkit's QEMU driver`);
};

const USB_MODELS: Record<string, string> = {
  'piix3-uhci': 'piix3-usb-uhci',
  'piix4-uhci': 'piix4-usb-uhci',
  'qemu-xhci': 'qemu-xhci',
  'nec-xhci': 'nec-usb-xhci',
};
const SCSI_MODELS: Record<string, string> = {
  'virtio-scsi': 'virtio-scsi-pci',
  'virtio-transitional': 'virtio-scsi-pci-transitional',
  'virtio-non-transitional': 'virtio-scsi-pci-non-transitional',
  lsilogic: 'lsi',
};
const PCI_MODELS: Record<string, string> = {
  'pcie-root-port': 'pcie-root-port',
  'pci-bridge': 'pci-bridge',
  'dmi-to-pci-bridge': 'i82801b11-bridge',
  'pcie-to-pci-bridge': 'pcie-pci-bridge',
};

function int(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw virtError(ErrorCode.XML_ERROR, `invalid number '${v}'`);
  return n;
}

/** The -device of a controller, or undefined for one that is built into the machine (or model none). */
export function controllerDevice(def: DomainDef, c: XmlElement): JsonObject | undefined {
  const type = c.attr('type') ?? '';
  const index = Number(c.attr('index') ?? 0);
  const model = c.attr('model');
  const place = (): JsonObject => pciProps(def, c);
  switch (type) {
    case 'pci': {
      if (model === 'pci-root' || model === 'pcie-root') return undefined;
      const driver = c.child('model')?.attr('name') ?? own(PCI_MODELS, model);
      if (!driver || (!Object.values(PCI_MODELS).includes(driver) && driver !== 'ioh3420')) unsupported(`PCI controller model '${model ?? ''}'`);
      const target = c.child('target');
      const id = checkQemuId(controllerId(c), 'controller alias');
      if (driver === 'pcie-root-port' || driver === 'ioh3420') {
        const port = int(target?.attr('port')) ?? 0x10 + index - 1;
        const chassis = int(target?.attr('chassis')) ?? index;
        return { driver, port, chassis, id, ...place() };
      }
      if (driver === 'pci-bridge') return { driver, chassis_nr: int(target?.attr('chassisNr')) ?? index, id, ...place() };
      return { driver, id, ...place() };
    }
    case 'usb': {
      if (model === 'none') return undefined;
      const driver = own(USB_MODELS, model ?? 'piix3-uhci');
      if (!driver) return unsupported(`USB controller model '${model}'`);
      const props: JsonObject = { driver, id: checkQemuId(controllerId(c), 'controller alias') };
      const ports = int(c.attr('ports'));
      if (ports !== undefined && (driver === 'qemu-xhci' || driver === 'nec-usb-xhci')) Object.assign(props, { p2: ports, p3: ports });
      return { ...props, ...place() };
    }
    case 'scsi': {
      const driver = own(SCSI_MODELS, model ?? 'lsilogic');
      if (!driver) return unsupported(`SCSI controller model '${model}'`);
      return { driver, id: checkQemuId(controllerId(c), 'controller alias'), ...place() };
    }
    case 'sata':
      // q35's own AHCI (00:1f.2) is controller 0.
      if (index === 0 && isQ35(def)) return undefined;
      return { driver: 'ich9-ahci', id: checkQemuId(controllerId(c), 'controller alias'), ...place() };
    case 'ide':
      if (index === 0 && !isQ35(def)) return undefined; // PIIX3's IDE function
      return unsupported(`IDE controller ${index} on this machine`);
    case 'virtio-serial':
      return { driver: 'virtio-serial-pci', id: checkQemuId(controllerId(c), 'controller alias'), ...place() };
    case 'fdc':
    case 'isa':
      return undefined;
    default:
      return unsupported(`controller type '${type}'`);
  }
}

/** A character device backend in QEMU's key=value syntax (chardev has no JSON form in QEMU 7.2). */
export function chardevArg(dev: XmlElement, id: string): string {
  const type = dev.attr('type') ?? 'pty';
  const source = dev.child('source');
  const path = (): string => optValue(absolutePath(source?.attr('path') ?? '', `${dev.name} source path`), `${dev.name} source path`);
  switch (type) {
    case 'pty':
      return `pty,id=${id}`;
    case 'null':
      return `null,id=${id}`;
    case 'file':
      return `file,id=${id},path=${path()}${source?.attr('append') === 'on' ? ',append=on' : ''}`;
    case 'unix':
      if (source?.attr('mode') === 'connect') return `socket,id=${id},path=${path()}`;
      return `socket,id=${id},path=${path()},server=on,wait=off`;
    default:
      return unsupported(`${dev.name} type '${type}'`);
  }
}

/** -chardev/-device pairs of serial ports; consoles that are serial port 0 are the same device. */
export function serialArgs(def: DomainDef): { chardevs: string[]; devices: JsonObject[]; ptys: { alias: string; chardev: string }[] } {
  const chardevs: string[] = [];
  const devices: JsonObject[] = [];
  const ptys: { alias: string; chardev: string }[] = [];
  for (const s of def.elementsNamed('serial')) {
    const alias = checkQemuId(readAlias(s) ?? '', 'serial alias');
    const targetType = s.child('target')?.attr('type') ?? 'isa-serial';
    if (targetType !== 'isa-serial') unsupported(`serial target type '${targetType}'`);
    const id = `char${alias}`;
    chardevs.push(chardevArg(s, id));
    if ((s.attr('type') ?? 'pty') === 'pty') ptys.push({ alias, chardev: id });
    devices.push({ driver: 'isa-serial', chardev: id, id: alias, index: Number(s.child('target')?.attr('port') ?? 0) });
  }
  for (const c of def.elementsNamed('console')) {
    const t = c.child('target')?.attr('type') ?? 'serial';
    if (t !== 'serial') unsupported(`console target type '${t}'`);
    const port = c.child('target')?.attr('port') ?? '0';
    if (!def.elementsNamed('serial').some((s) => (s.child('target')?.attr('port') ?? '0') === port)) {
      unsupported(`a serial console without its serial port ${port}`);
    }
  }
  return { chardevs, devices, ptys };
}

/** QEMU's `-action watchdog=` for libvirt's watchdog actions (`dump` needs libvirt's own dumping: refused). */
const WATCHDOG_ACTIONS = new Set(['reset', 'shutdown', 'poweroff', 'pause', 'none', 'inject-nmi']);

/**
 * Devices without a backend: balloon, video, input, audio backends, rng, watchdog. Returns
 * -device/-object/-audiodev JSON and `-action` settings.
 */
export function miscArgs(def: DomainDef): { objects: JsonObject[]; devices: JsonObject[]; audiodevs: JsonObject[]; actions: string[] } {
  const objects: JsonObject[] = [];
  const devices: JsonObject[] = [];
  const audiodevs: JsonObject[] = [];
  const actions: string[] = [];
  for (const dev of def.deviceElements()) {
    const alias = (): string => checkQemuId(readAlias(dev) ?? '', `${dev.name} alias`);
    switch (dev.name) {
      case 'disk':
      case 'interface':
      case 'controller':
      case 'serial':
      case 'console':
        break;
      case 'memballoon': {
        const model = dev.attr('model');
        if (model === 'none') break;
        if (model !== 'virtio') unsupported(`memballoon model '${model}'`);
        devices.push({ driver: 'virtio-balloon-pci', id: alias(), ...pciProps(def, dev) });
        break;
      }
      case 'input': {
        const bus = dev.attr('bus') ?? 'ps2';
        const type = dev.attr('type') ?? '';
        if (bus === 'ps2') break; // the i8042 of pc/q35
        const usb: Record<string, string> = { tablet: 'usb-tablet', mouse: 'usb-mouse', keyboard: 'usb-kbd' };
        const usbDriver = bus === 'usb' ? own(usb, type) : undefined;
        if (usbDriver) devices.push({ driver: usbDriver, id: alias(), ...usbProps(def, dev) });
        else unsupported(`input device '${type}' on bus '${bus}'`);
        break;
      }
      case 'audio': {
        const type = dev.attr('type');
        if (type !== 'none') unsupported(`audio backend '${type}'`);
        audiodevs.push({ id: `audio${dev.attr('id') ?? '1'}`, driver: 'none' });
        break;
      }
      case 'video': {
        const model = dev.child('model')?.attr('type') ?? 'cirrus';
        if (model === 'none') break;
        const drivers: Record<string, string> = { cirrus: 'cirrus-vga', vga: 'VGA', virtio: 'virtio-vga' };
        const driver = own(drivers, model);
        if (!driver) unsupported(`video model '${model}'`);
        devices.push({ driver, id: alias(), ...pciProps(def, dev) });
        break;
      }
      case 'rng': {
        const backend = dev.child('backend');
        if (dev.attr('model') !== 'virtio' || backend?.attr('model') !== 'random') unsupported(`rng other than virtio with a random backend`);
        const id = alias();
        const file = absolutePath(backend?.text().trim() || '/dev/urandom', 'rng source');
        objects.push({ 'qom-type': 'rng-random', id: `obj${id}`, filename: file });
        devices.push({ driver: 'virtio-rng-pci', rng: `obj${id}`, id, ...pciProps(def, dev) });
        break;
      }
      case 'watchdog': {
        const model = dev.attr('model') ?? '';
        if (model === 'i6300esb') devices.push({ driver: 'i6300esb', id: alias(), ...pciProps(def, dev) });
        else if (model === 'ib700') devices.push({ driver: 'ib700', id: alias() });
        else unsupported(`watchdog model '${model}'`);
        const action = dev.attr('action');
        if (action !== undefined) {
          if (!WATCHDOG_ACTIONS.has(action)) unsupported(`watchdog action '${action}'`);
          if (actions.length > 0) unsupported('more than one watchdog action');
          actions.push(`watchdog=${action}`);
        }
        break;
      }
      default:
        unsupported(`device <${dev.name}>`);
    }
  }
  return { objects, devices, audiodevs, actions };
}
