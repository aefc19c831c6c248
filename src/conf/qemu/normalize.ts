/**
 * Define-time normalization of a QEMU (qemu/kvm) domain, in the order of libvirt's post-parse
 * (virDomainDefPostParse with the QEMU driver's callbacks): emulator, controller indexes, machine and
 * default devices, CPU, device defaults, console pairing and implicit controllers, then addresses.
 */
import { el } from '../../xml/index.js';
import type { QemuHost } from '../caps/types.js';
import type { DomainDef } from '../domain.js';
import { DOMAIN_ORDER } from '../devices/kinds.js';
import { canonicalDeviceOrder, sortControllers } from './canonical-order.js';
import { sortDeviceChildren } from './child-order.js';
import { consoleCompat, mirrorSerialConsoles } from './console.js';
import { defaultEmulator, qemuContext, type QemuContext } from './context.js';
import { addDefaultDevices } from './default-devices.js';
import { deviceDefaults, videoDefaults } from './device-defaults.js';
import { deviceFormat } from './device-format.js';
import { domainFormat, sortChildren } from './domain-format.js';
import { normalizeGraphics } from './graphics.js';
import { parseNormalize } from './parse-normalize.js';
import { addImplicitControllers } from './implicit-controllers.js';
import { inactiveDefaults } from './inactive.js';
import { canonicalizeMachine, cpuPostParse, defaultCpu, defaultMachine } from './machine.js';
import { isX86Arch } from './machine-kind.js';
import { assignPciAddresses } from './pci-assign.js';
import { normalizeCputune } from './cputune.js';
import { assignMemorySlots } from './memory-slots.js';
import { normalizeNuma } from './numa.js';
import { normalizeNumatune } from './numatune.js';
import { sanitizeMetadata } from './metadata.js';
import { assignSpaprVioAddresses } from './spapr-vio.js';
import { assignVirtioSerialAddresses } from './virtio-serial.js';
import { assignControllerIndexes, assignIsaSerialPorts } from './indexes.js';
import { devicesInIterateOrder } from './iterate-order.js';

export function normalizeQemuDomain(def: DomainDef, host: QemuHost): void {
  def.withDeviceIndex(() => normalize(def, host));
}

function normalize(def: DomainDef, host: QemuHost): void {
  if (def.peekNamed('emulator').length === 0) def.insertDeviceFirst(el('emulator', {}, defaultEmulator(host, def.arch ?? host.hostArch)));
  const ctx: QemuContext = qemuContext(def, host);
  parseNormalize(def);
  domainFormat(def);
  normalizeCputune(def);
  normalizeNumatune(def);
  sanitizeMetadata(def);
  deviceFormat(def);
  inactiveDefaults(def, ctx);
  normalizeGraphics(def, ctx);
  sortControllers(def);
  assignControllerIndexes(def);

  if (ctx.caps) {
    defaultMachine(def, ctx);
    addDefaultDevices(def, ctx);
    canonicalizeMachine(def, ctx);
    defaultCpu(def, ctx);
    cpuPostParse(def, ctx);
    normalizeNuma(def, Number(def.root.child('vcpu')?.text().trim() || 1));
  }
  assignIsaSerialPorts(def);
  for (const e of devicesInIterateOrder(def)) deviceDefaults(def, e, ctx);

  const createdSerial = consoleCompat(def);
  addImplicitControllers(def);
  const graphics = def.peekNamed('graphics');
  if (graphics.length > 0 && def.peekNamed('video').length === 0) def.addDevice(el('video'));
  const video = def.peekNamed('video')[0];
  if (video) {
    const model = video.child('model');
    if (model?.attr('type') !== 'none') {
      videoDefaults(video, ctx);
      const m = video.child('model')!;
      if (!m.hasAttr('primary')) m.setAttr('primary', 'yes');
    }
  }
  const serial0 = createdSerial ?? def.peekNamed('serial')[0];
  if (serial0) deviceDefaults(def, serial0, ctx);
  for (const c of def.peekNamed('controller')) if (c.attr('type') === 'scsi' && !c.hasAttr('model')) deviceDefaults(def, c, ctx);

  if (ctx.caps && isX86Arch(ctx.arch)) {
    assignVirtioSerialAddresses(def);
    assignSpaprVioAddresses(def);
    assignPciAddresses(def, { caps: ctx.caps });
    assignMemorySlots(def);
  }
  mirrorSerialConsoles(def);
  canonicalDeviceOrder(def);
  sortDeviceChildren(def);
  sortChildren(def.root, DOMAIN_ORDER);
}
