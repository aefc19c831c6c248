/**
 * Loads libvirt's QEMU capability cache format (`<qemuCaps>`, the caps_*.xml files of libvirt's test
 * suite and of /var/cache/libvirt/qemu/capabilities) into the capability model.
 */
import { ErrorCode, virtError } from '../../errors.js';
import { parseXml, type XmlElement } from '../../xml/index.js';
import { cpuModelFromTypeName } from './flags.js';
import type { Accel, QemuCaps, QemuMachine } from './types.js';

function machineOf(m: XmlElement, cpuNames: Map<string, string>): QemuMachine {
  const yes = (a: string): true | undefined => (m.attr(a) === 'yes' ? true : undefined);
  const cpuType = m.attr('defaultCPU');
  const max = m.attr('maxCpus');
  return {
    name: m.attr('name') ?? '',
    alias: m.attr('alias'),
    isDefault: yes('default'),
    maxCpus: max === undefined ? undefined : Number(max),
    defaultCpu: cpuType === undefined ? undefined : (cpuNames.get(cpuType) ?? cpuModelFromTypeName(cpuType)),
    defaultRamId: m.attr('defaultRAMid'),
    hotplugCpus: yes('hotplugCpus'),
    numaMemSupported: yes('numaMemSupported'),
    deprecated: yes('deprecated'),
  };
}

/** Parses one `<qemuCaps>` document. Machines keep the file's order (libvirt writes the preferred one first). */
export function loadLibvirtCapsXml(xml: string): QemuCaps {
  const root = parseXml(xml, { source: 'QEMU capabilities' });
  if (root.name !== 'qemuCaps') throw virtError(ErrorCode.XML_ERROR, `unexpected root element <${root.name}>, expecting <qemuCaps>`);
  const arch = root.childText('arch');
  const version = Number(root.childText('version'));
  if (!arch || !Number.isInteger(version)) throw virtError(ErrorCode.XML_ERROR, 'QEMU capabilities without <arch> or <version>');
  const flags = new Set<string>();
  const cpuNames: Record<Accel, Map<string, string>> = { kvm: new Map(), tcg: new Map(), hvf: new Map() };
  const machineEls: Record<Accel, XmlElement[]> = { kvm: [], tcg: [], hvf: [] };
  for (const e of root.elements()) {
    const accel = e.attr('type') as Accel | undefined;
    if (e.name === 'flag') flags.add(e.attr('name') ?? '');
    else if (e.name === 'cpu' && accel !== undefined && Object.hasOwn(cpuNames, accel)) {
      const name = e.attr('name');
      const typeName = e.attr('typename');
      if (name && typeName) cpuNames[accel].set(typeName, name);
    } else if (e.name === 'machine' && accel !== undefined && Object.hasOwn(machineEls, accel)) machineEls[accel].push(e);
  }
  const machines = {
    kvm: machineEls.kvm.map((m) => machineOf(m, cpuNames.kvm)),
    tcg: machineEls.tcg.map((m) => machineOf(m, cpuNames.tcg)),
    ...(machineEls.hvf.length ? { hvf: machineEls.hvf.map((m) => machineOf(m, cpuNames.hvf)) } : {}),
  };
  return { emulator: root.childText('emulator') ?? `/usr/bin/qemu-system-${arch}`, arch, version, flags, machines };
}
