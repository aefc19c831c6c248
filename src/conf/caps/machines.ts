/** Lookups in a binary's capabilities that define-time defaults make (machine names, default CPU, flags). */
import type { Accel, QemuCaps, QemuHost, QemuMachine } from './types.js';

/** The accelerator of a domain type: kvm for `kvm`, TCG for everything else QEMU runs (`qemu`). */
export function accelOf(domainType: string): Accel {
  return domainType === 'kvm' ? 'kvm' : domainType === 'hvf' ? 'hvf' : 'tcg';
}

/** Machine types of one accelerator (none when QEMU lacks it). */
export function machinesOf(caps: QemuCaps, accel: Accel): readonly QemuMachine[] {
  return caps.machines[accel] ?? NO_MACHINES;
}
const NO_MACHINES: readonly QemuMachine[] = [];

export function hasCap(caps: QemuCaps | undefined, flag: string): boolean {
  return caps?.flags.has(flag) === true;
}

/** The machine QEMU picks when none is named (the preferred one, listed first). */
export function preferredMachine(caps: QemuCaps, accel: Accel): string | undefined {
  return machinesOf(caps, accel)[0]?.name;
}

interface MachineIndex {
  byName: Map<string, QemuMachine>;
  byAlias: Map<string, QemuMachine>;
}

/**
 * Machines of one accelerator by name and by alias, made once per machine list: every define looks its
 * machine up twice, and a list holds ~80 names of equal length (pc-i440fx-6.2, pc-i440fx-7.0, ...).
 */
const INDEXES = new WeakMap<readonly QemuMachine[], MachineIndex>();

function indexOf(caps: QemuCaps, accel: Accel): MachineIndex {
  const list = machinesOf(caps, accel);
  let index = INDEXES.get(list);
  if (!index) {
    index = { byName: new Map(), byAlias: new Map() };
    // The first one listed wins, as a search from the front finds it.
    for (const m of list) {
      if (!index.byName.has(m.name)) index.byName.set(m.name, m);
      if (m.alias !== undefined && !index.byAlias.has(m.alias)) index.byAlias.set(m.alias, m);
    }
    INDEXES.set(list, index);
  }
  return index;
}

/** `pc` → `pc-i440fx-7.2`: the canonical name of an alias, else the name itself. */
export function canonicalMachine(caps: QemuCaps | undefined, accel: Accel, name: string): string {
  if (!caps) return name;
  return indexOf(caps, accel).byAlias.get(name)?.name ?? name;
}

export function findMachine(caps: QemuCaps | undefined, accel: Accel, name: string): QemuMachine | undefined {
  return caps ? indexOf(caps, accel).byName.get(name) : undefined;
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
