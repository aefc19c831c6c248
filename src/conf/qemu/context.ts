/** The per-domain facts QEMU defaults depend on: architecture, emulator, the binary's capabilities, driver config. */
import { accelOf, capsForEmulator, emulatorFor } from '../caps/machines.js';
import type { Accel, QemuCaps, QemuDriverConfig, QemuHost } from '../caps/types.js';
import type { DomainDef } from '../domain.js';
import { own } from '../../shared/own.js';

export interface QemuContext {
  host: QemuHost;
  arch: string;
  accel: Accel;
  /** Undefined when the emulator is not a known binary: capability-dependent defaults are skipped. */
  caps: QemuCaps | undefined;
  config: QemuDriverConfig;
  /** `<os><type machine>` as the domain names it (read at context creation). */
  machine: string | undefined;
}

/** QEMU's binary suffix for a libvirt architecture name (i686 runs on qemu-system-i386). */
const QEMU_ARCH: Record<string, string> = { i686: 'i386', armv6l: 'arm', armv7l: 'arm', ppc64le: 'ppc64' };

export function defaultEmulator(host: QemuHost, arch: string): string {
  return emulatorFor(host, arch) ?? `/usr/bin/qemu-system-${own(QEMU_ARCH, arch) ?? arch}`;
}

export function qemuContext(def: DomainDef, host: QemuHost): QemuContext {
  const arch = def.arch ?? host.hostArch;
  const emulator = def.emulator ?? defaultEmulator(host, arch);
  return { host, arch, accel: accelOf(def.type), caps: capsForEmulator(host, emulator), config: host.config ?? {}, machine: def.machine };
}
