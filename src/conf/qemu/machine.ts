/**
 * Machine type and CPU defaults of qemuDomainDefPostParse: the preferred machine when none is named,
 * aliases resolved to the canonical versioned name (`pc` → `pc-i440fx-7.2`), the machine's default CPU
 * model for guests without one, and the CPU check/migratable defaults.
 */
import { ErrorCode, virtError } from '../../errors.js';
import { el, type XmlElement } from '../../xml/index.js';
import { canonicalMachine, hasCap, machineDefaultCpu, preferredMachine } from '../caps/machines.js';
import { CAP } from '../caps/flags.js';
import type { DomainDef } from '../domain.js';
import { DOMAIN_ORDER } from '../devices/kinds.js';
import type { QemuContext } from './context.js';
import { isX86Arch } from './machine-kind.js';

function osType(def: DomainDef): XmlElement | undefined {
  return def.root.child('os')?.child('type');
}

/** Fills `<type machine>` with QEMU's preferred machine; errors like libvirt when the binary has none. */
export function defaultMachine(def: DomainDef, ctx: QemuContext): void {
  const t = osType(def);
  if (!t || t.hasAttr('machine') || !ctx.caps) return;
  const machine = preferredMachine(ctx.caps, ctx.accel);
  if (!machine) {
    throw virtError(ErrorCode.INVALID_ARG, `could not get preferred machine for ${def.emulator ?? ctx.caps.emulator} type=${def.type}`);
  }
  t.setAttr('machine', machine);
}

export function canonicalizeMachine(def: DomainDef, ctx: QemuContext): void {
  const t = osType(def);
  const m = t?.attr('machine');
  if (t && m !== undefined) {
    const canon = canonicalMachine(ctx.caps, ctx.accel, m);
    if (canon !== m) t.setAttr('machine', canon);
  }
}

const CPU_CHILD_ORDER = ['model', 'vendor', 'topology', 'cache', 'maxphysaddr', 'feature', 'numa'];

/** qemuDomainDefSetDefaultCPU: guests without a CPU model get the machine's default (`qemu64`), unchecked. */
export function defaultCpu(def: DomainDef, ctx: QemuContext): void {
  let cpu = def.root.child('cpu');
  const mode = cpu?.attr('mode') ?? 'custom';
  if (cpu && (mode !== 'custom' || cpu.child('model')?.text().trim())) return;
  if (!isX86Arch(ctx.arch)) return;
  const machine = def.machine;
  const model = machine === undefined ? undefined : machineDefaultCpu(ctx.caps, ctx.accel, machine);
  if (!model || model === 'host') return;
  if (!cpu) {
    cpu = el('cpu');
    def.root.insertOrdered(cpu, DOMAIN_ORDER);
  }
  cpu.attrs = [['mode', 'custom'], ['match', 'exact'], ['check', 'none'], ...cpu.attrs.filter(([k]) => k !== 'mode' && k !== 'match' && k !== 'check')];
  const m = cpu.child('model') ?? el('model');
  m.attrs = [['fallback', 'forbid'], ...m.attrs.filter(([k]) => k !== 'fallback')];
  m.setText(model);
  if (!cpu.children.includes(m)) cpu.insertOrdered(m, CPU_CHILD_ORDER);
}

/** qemuDomainDefCPUPostParse: the check level and host-passthrough's migratable flag libvirt writes down. */
export function cpuPostParse(def: DomainDef, ctx: QemuContext): void {
  const cpu = def.root.child('cpu');
  if (!cpu || cpu.child('arch')) return;
  const mode = cpu.attr('mode') ?? 'custom';
  if (mode === 'host-passthrough' && !cpu.hasAttr('migratable')) {
    if (hasCap(ctx.caps, CAP.CPU_MIGRATABLE)) cpu.setAttr('migratable', 'on');
    else if (isX86Arch(ctx.arch)) cpu.setAttr('migratable', 'off');
  }
  const hasModel = !!cpu.child('model')?.text().trim();
  if (mode === 'custom' && !hasModel) return;
  if (mode === 'custom') {
    // Parsed defaults libvirt prints for a custom model: match='exact', fallback='allow'.
    if (!cpu.hasAttr('match')) cpu.setAttr('match', 'exact');
    const m = cpu.child('model')!;
    if (!m.hasAttr('fallback')) m.setAttr('fallback', 'allow');
  }
  if (!cpu.hasAttr('mode')) cpu.attrs.unshift(['mode', mode]);
  if (cpu.hasAttr('check')) return;
  const check = mode === 'host-model' ? 'partial' : mode === 'custom' ? (def.type === 'qemu' ? 'none' : 'partial') : 'none';
  cpu.setAttr('check', check);
}
