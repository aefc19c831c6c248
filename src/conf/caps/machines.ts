/** Lookups in a binary's capabilities that define-time defaults make (machine names, default CPU, flags). */
import type { Accel, QemuCaps, QemuHost, QemuMachine } from './types.js';

/** The accelerator of a domain type: kvm for `kvm`, TCG for everything else QEMU runs (`qemu`). */
export function accelOf(domainType: string): Accel {
  return domainType === 'kvm' ? 'kvm' : domainType === 'hvf' ? 'hvf' : 'tcg';
}

/** Machine types of one accelerator (none when QEMU lacks it). */
export function machinesOf(caps: QemuCaps, accel: Accel): readonly QemuMachine[] {
  return caps.machines[accel] ?? [];
}

export function hasCap(caps: QemuCaps | undefined, flag: string): boolean {
  return caps?.flags.has(flag) === true;
}

/** The machine QEMU picks when none is named (the preferred one, listed first). */
export function preferredMachine(caps: QemuCaps, accel: Accel): string | undefined {
  return machinesOf(caps, accel)[0]?.name;
}

/** `pc` → `pc-i440fx-7.2`: the canonical name of an alias, else the name itself. */
export function canonicalMachine(caps: QemuCaps | undefined, accel: Accel, name: string): string {
  if (!caps) return name;
  for (const m of machinesOf(caps, accel)) if (m.alias === name) return m.name;
  return name;
}

export function findMachine(caps: QemuCaps | undefined, accel: Accel, name: string): QemuMachine | undefined {
  return caps ? machinesOf(caps, accel).find((m) => m.name === name) : undefined;
}

/** QEMU's default CPU model for a machine (by canonical name), if it reports one. */
export function machineDefaultCpu(caps: QemuCaps | undefined, accel: Accel, machine: string): string | undefined {
  return findMachine(caps, accel, machine)?.defaultCpu;
}

/**
 * The same capabilities with every alias turned into a machine of its own (libvirt's test suite does
 * this for its 'latest' capabilities so that outputs keep `pc` instead of a versioned name).
 */
export function withoutMachineAliases(caps: QemuCaps): QemuCaps {
  const strip = (list: readonly QemuMachine[]): QemuMachine[] => {
    const out: QemuMachine[] = [];
    const extra: QemuMachine[] = [];
    for (const m of list) {
      if (m.alias === undefined) {
        out.push(m);
        continue;
      }
      const { alias, ...rest } = m;
      out.push(rest);
      extra.push({ ...rest, name: alias });
    }
    return [...out, ...extra];
  };
  const hvf = caps.machines.hvf;
  return { ...caps, machines: { kvm: strip(caps.machines.kvm), tcg: strip(caps.machines.tcg), ...(hvf ? { hvf: strip(hvf) } : {}) } };
}

/** The binary a domain runs: by its `<emulator>` path when it names one, else by guest architecture. */
export function emulatorFor(host: QemuHost, arch: string): string | undefined {
  const named = host.emulators?.[arch];
  if (named) return named;
  return host.binaries.find((b) => b.arch === arch)?.emulator;
}

export function capsForEmulator(host: QemuHost, emulator: string): QemuCaps | undefined {
  return host.binaries.find((b) => b.emulator === emulator);
}
