/**
 * QEMU 7.2 on an x86_64 host (Debian 12's qemu-system-x86, the binary installed next to virtkit's test
 * machines), as facts: its machine types and the capabilities define-time defaults consult. This is the
 * test driver's default, so a user's test:///default behaves as this QEMU would.
 */
import { CAP } from './flags.js';
import type { QemuCaps, QemuHost, QemuMachine } from './types.js';

const VERSION = 7_002_000;

/** Machine versions QEMU 7.2 still offers, per family. */
const I440FX = ['1.4', '1.5', '1.6', '1.7', '2.0', '2.1', '2.2', '2.3', '2.4', '2.5', '2.6', '2.7', '2.8', '2.9', '2.10', '2.11', '2.12', '3.0', '3.1', '4.0', '4.1', '4.2', '5.0', '5.1', '5.2', '6.0', '6.1', '6.2', '7.0', '7.1', '7.2'];
const Q35 = ['2.4', '2.5', '2.6', '2.7', '2.8', '2.9', '2.10', '2.11', '2.12', '3.0', '3.1', '4.0', '4.0.1', '4.1', '4.2', '5.0', '5.1', '5.2', '6.0', '6.1', '6.2', '7.0', '7.1', '7.2'];
const LATEST = '7.2';

/** 5.0 and older machine versions still accept numa `mem=`; the 1.x PC machines are deprecated. */
const upTo50 = (v: string): boolean => {
  const [major, minor] = v.split('.').map(Number) as [number, number];
  return major < 5 || (major === 5 && minor === 0);
};

function machines(cpu: string): QemuMachine[] {
  const pc = I440FX.map(
    (v): QemuMachine => ({
      name: `pc-i440fx-${v}`,
      alias: v === LATEST ? 'pc' : undefined,
      isDefault: v === LATEST ? true : undefined,
      maxCpus: 255,
      defaultCpu: cpu,
      defaultRamId: 'pc.ram',
      hotplugCpus: true,
      numaMemSupported: upTo50(v) || undefined,
      deprecated: v.startsWith('1.') || undefined,
    }),
  );
  const q35 = Q35.map(
    (v): QemuMachine => ({
      name: `pc-q35-${v}`,
      alias: v === LATEST ? 'q35' : undefined,
      // q35 machines since 2.8 take up to 288 vCPUs.
      maxCpus: ['2.4', '2.5', '2.6', '2.7'].includes(v) ? 255 : 288,
      defaultCpu: cpu,
      defaultRamId: 'pc.ram',
      hotplugCpus: true,
      numaMemSupported: upTo50(v) || undefined,
    }),
  );
  const others: QemuMachine[] = [
    { name: 'isapc', maxCpus: 1, defaultCpu: '486', defaultRamId: 'pc.ram', hotplugCpus: true },
    { name: 'microvm', maxCpus: 288, defaultCpu: cpu, defaultRamId: 'microvm.ram' },
    { name: 'x-remote', maxCpus: 1 },
  ];
  // The default machine comes first: it is the one a domain without <type machine> gets.
  const def = pc.pop()!;
  return [def, ...pc.reverse(), ...q35.reverse(), ...others];
}

/** Every capability of flags.ts that QEMU 7.2 for x86 has (all but s390's zPCI). */
const FLAGS: ReadonlySet<string> = new Set(Object.values(CAP).filter((f) => f !== CAP.ZPCI));

function binary(emulator: string, arch: string, cpu: string): QemuCaps {
  const list = machines(cpu);
  return { emulator, arch, version: VERSION, flags: FLAGS, machines: { kvm: list, tcg: list } };
}

/** qemu-system-x86_64 7.2 (its machines default to the qemu64 CPU). */
export const QEMU_7_2_X86_64: QemuCaps = binary('/usr/bin/qemu-system-x86_64', 'x86_64', 'qemu64');
/** qemu-system-i386 7.2, which runs i686 guests (default CPU qemu32). */
export const QEMU_7_2_I686: QemuCaps = binary('/usr/bin/qemu-system-i386', 'i686', 'qemu32');

/** The test driver's default host: x86_64 with QEMU 7.2, libvirt's default qemu.conf. */
export const DEFAULT_QEMU_HOST: QemuHost = {
  hostArch: 'x86_64',
  binaries: [QEMU_7_2_X86_64, QEMU_7_2_I686],
};
