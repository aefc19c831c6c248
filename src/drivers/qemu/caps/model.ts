/** A probe result in the capability model define-time defaults read (conf/caps). */
import { arch as hostArch } from 'node:os';
import { CAP, flagsFromQomTypes, type QemuCaps, type QemuHost } from '../../../conf/caps/index.js';
import type { QemuProbe } from './probe.js';

const NODE_ARCH: Record<string, string> = { x64: 'x86_64', ia32: 'i686', arm64: 'aarch64', arm: 'armv7l', ppc64: 'ppc64', s390x: 's390x' };

export function capsFromProbe(probe: QemuProbe): QemuCaps {
  const flags = flagsFromQomTypes(probe.qomTypes);
  // Only a KVM that ran the probe guest counts (conf decides defaults per accelerator from this).
  if (probe.kvm.usable) flags.add('kvm');
  else flags.delete('kvm');
  if (probe.cpuProperties.includes('migratable')) flags.add(CAP.CPU_MIGRATABLE);
  return { emulator: probe.emulator, arch: probe.arch, version: probe.versionNumber, flags, machines: probe.machines };
}

/** The host as define-time defaults see it, from probed binaries. */
export function hostFromProbes(probes: QemuProbe[]): QemuHost {
  const emulators: Record<string, string> = {};
  for (const p of probes) emulators[p.arch] ??= p.emulator;
  return { hostArch: NODE_ARCH[hostArch()] ?? hostArch(), binaries: probes.map(capsFromProbe), emulators };
}
