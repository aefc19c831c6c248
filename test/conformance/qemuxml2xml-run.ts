/**
 * Runs libvirt's qemuxml2xmltest cases against virtkit's define-time normalization: each input is
 * parsed with the capability set its case names (conf.parseDomainXml with that QemuHost, as a
 * test:///default define with those capabilities does) and the inactive XML is compared with the
 * expected output as canonical XML (attribute order and layout ignored).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type QemuCaps, type QemuHost, loadLibvirtCapsXml, withoutMachineAliases } from '../../src/conf/caps/index.js';
import { parseDomainXml } from '../../src/conf/index.js';
import { VirtError } from '../../src/errors.js';
import { parseXml, xmlDiff } from '../../src/xml/index.js';
import { type Qemuxml2xmlCase, capsFlagNames, readCases } from './qemuxml2xml-cases.js';

/** The emulators and machine types of libvirt's test suite (tests/testutilsqemu.c), for its fake capabilities. */
const TEST_EMULATORS: { arch: string; binary: string; machines: string[]; kvm: boolean }[] = [
  { arch: 'i686', binary: 'qemu-system-i386', machines: ['pc'], kvm: true },
  { arch: 'x86_64', binary: 'qemu-system-x86_64', machines: ['pc', 'q35'], kvm: true },
  { arch: 'aarch64', binary: 'qemu-system-aarch64', machines: ['virt', 'virt-2.6', 'versatilepb'], kvm: true },
  { arch: 'armv7l', binary: 'qemu-system-arm', machines: ['vexpress-a9', 'virt'], kvm: true },
  { arch: 'ppc64', binary: 'qemu-system-ppc64', machines: ['pseries'], kvm: true },
  { arch: 'ppc', binary: 'qemu-system-ppc', machines: ['ppce500'], kvm: true },
  { arch: 'riscv32', binary: 'qemu-system-riscv32', machines: ['virt'], kvm: true },
  { arch: 'riscv64', binary: 'qemu-system-riscv64', machines: ['virt'], kvm: true },
  { arch: 's390x', binary: 'qemu-system-s390x', machines: ['s390-ccw-virtio'], kvm: true },
  { arch: 'sparc', binary: 'qemu-system-sparc', machines: ['SS-5'], kvm: false },
];

const EMULATOR_FOR_ARCH: Record<string, string> = { i686: '/usr/bin/qemu-system-i386', armv7l: '/usr/bin/qemu-system-arm' };

export interface CaseResult {
  c: Qemuxml2xmlCase;
  /** Guest architecture (input's <os><type arch>, else the case's capabilities, else the host's). */
  arch: string;
  /** undefined: equal; else the first difference or the error. */
  difference?: string;
}

export class Oracle {
  readonly cases: Qemuxml2xmlCase[];
  readonly #flagNames: Map<string, string>;
  readonly #files = new Map<string, QemuCaps>();

  constructor(libvirtRoot: string) {
    this.cases = readCases(`${libvirtRoot}/tests`);
    this.#flagNames = capsFlagNames(libvirtRoot);
  }

  #flags(names: string[]): string[] {
    return names.map((n) => {
      const f = this.#flagNames.get(n);
      if (!f) throw new Error(`unknown capability ${n}`);
      return f;
    });
  }

  /** The QemuHost a case names: a caps file (other binaries empty) or the test suite's fake capabilities. */
  hostFor(c: Qemuxml2xmlCase): QemuHost {
    const extra = this.#flags(c.caps.flagNames);
    let binaries: QemuCaps[];
    if (c.caps.kind === 'file') {
      let file = this.#files.get(c.caps.file!);
      if (!file) {
        file = loadLibvirtCapsXml(readFileSync(c.caps.file!, 'utf8'));
        this.#files.set(c.caps.file!, file);
      }
      let caps: QemuCaps = { ...file, flags: new Set([...file.flags, ...extra]) };
      if (c.caps.stripMachineAliases) caps = withoutMachineAliases(caps);
      const others = TEST_EMULATORS.filter((e) => `/usr/bin/${e.binary}` !== caps.emulator).map(
        (e): QemuCaps => ({ emulator: `/usr/bin/${e.binary}`, arch: e.arch, version: 0, flags: new Set(), machines: { kvm: [], tcg: [] } }),
      );
      binaries = [caps, ...others];
    } else {
      binaries = TEST_EMULATORS.map((e) => {
        const machines = e.machines.map((name) => ({ name }));
        const flags = new Set([...extra, 'tcg', ...(e.kvm ? ['kvm'] : [])]);
        return { emulator: `/usr/bin/${e.binary}`, arch: e.arch, version: 0, flags, machines: { kvm: e.kvm ? machines : [], tcg: machines } };
      });
    }
    return {
      hostArch: 'x86_64',
      binaries,
      emulators: EMULATOR_FOR_ARCH,
      config: { ...c.config, env: c.env, libDir: '/tmp/lib', channelTargetDir: '/tmp/channel' },
    };
  }

  run(c: Qemuxml2xmlCase): CaseResult {
    const input = readFileSync(c.input, 'utf8');
    const arch = /<type[^>]*\barch=['"]([^'"]*)['"]/.exec(input)?.[1] ?? c.capsArch ?? 'x86_64';
    try {
      const def = parseDomainXml(input, { qemuHost: this.hostFor(c) });
      const want = parseXml(readFileSync(c.expected, 'utf8'));
      const ours = parseXml(def.toXml());
      return { c, arch, difference: xmlDiff(want, ours) };
    } catch (err) {
      const code = err instanceof VirtError ? `${err.codeName}: ` : '';
      return { c, arch, difference: `refused: ${code}${err instanceof Error ? err.message.split('\n')[0] : String(err)}` };
    }
  }
}

export const isX86 = (arch: string): boolean => arch === 'x86_64' || arch === 'i686';

/** Distinct (input, expected) pairs; libvirt runs some inputs twice with different flags for the same file. */
export function distinctPairs(cases: Qemuxml2xmlCase[]): Qemuxml2xmlCase[] {
  const seen = new Set<string>();
  return cases.filter((c) => {
    const key = `${c.input}|${c.expected}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export const label = (c: Qemuxml2xmlCase): string => basename(c.expected, '.xml');
