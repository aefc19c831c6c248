/**
 * What a QEMU binary offers, asked from the binary itself: a QEMU without a machine (`-machine none`)
 * answers query-version, query-target, query-machines, query-qmp-schema and qom-list-types over QMP on
 * its stdio; KVM is judged by running a probe guest (kvm-probe.ts). The result is plain data, cached
 * per binary (cache.ts).
 */
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { ErrorCode, virtError } from '../../../errors.js';
import { QmpClient } from '../qmp/client.js';
import type { QmpMachineInfo } from '../qmp/protocol.js';
import { type KvmVerdict, probeKvm } from './kvm-probe.js';

/** One machine type, in the shape of the capability model's QemuMachine. */
export interface ProbedMachine {
  name: string;
  alias?: string;
  isDefault?: boolean;
  maxCpus?: number;
  /** CPU model name (`qemu64`), not QEMU's type name (`qemu64-x86_64-cpu`). */
  defaultCpu?: string;
  defaultRamId?: string;
  hotplugCpus?: boolean;
  numaMemSupported?: boolean;
  deprecated?: boolean;
}

export interface QemuProbe {
  emulator: string;
  version: { major: number; minor: number; micro: number; package: string };
  /** libvirt's encoding: major * 1,000,000 + minor * 1,000 + micro. */
  versionNumber: number;
  /** Guest architecture in libvirt's naming (x86_64, i686, aarch64, ...). */
  arch: string;
  /** Machine types per accelerator, QEMU's default first; kvm is empty unless KVM is usable. */
  machines: { tcg: ProbedMachine[]; kvm: ProbedMachine[] };
  /** Every QOM type (devices, backends, machines), sorted. */
  qomTypes: string[];
  /** Properties of the `max` CPU model (libvirt reads `migratable` from it), sorted. */
  cpuProperties: string[];
  /** QMP command and event names the binary knows, sorted. */
  commands: string[];
  events: string[];
  kvm: KvmVerdict;
}

export interface ProbeOptions {
  /** Time limit for the probe guest under KVM (default 2000 ms). */
  kvmTimeoutMs?: number;
  /** Skip the KVM guest run (and report KVM unusable), e.g. for a domain type that never uses it. */
  skipKvm?: boolean;
}

const ARCH_NAMES: Record<string, string> = { i386: 'i686', ppc64: 'ppc64', arm: 'armv7l' };

function machineOf(m: QmpMachineInfo): ProbedMachine {
  const cpu = m['default-cpu-type'];
  return {
    name: m.name,
    alias: m.alias,
    isDefault: m['is-default'] || undefined,
    maxCpus: m['cpu-max'],
    defaultCpu: cpu?.replace(/-[a-z0-9_]+-cpu$/, ''),
    defaultRamId: m['default-ram-id'],
    hotplugCpus: m['hotpluggable-cpus'] || undefined,
    numaMemSupported: m['numa-mem-supported'] || undefined,
    deprecated: m.deprecated || undefined,
  };
}

/** Machines sorted as the capability model wants them: QEMU's default first, then by name. */
function sortMachines(list: QmpMachineInfo[]): ProbedMachine[] {
  return list
    .map(machineOf)
    .filter((m) => m.name !== 'none')
    .sort((a, b) => Number(!!b.isDefault) - Number(!!a.isDefault) || a.name.localeCompare(b.name));
}

/** Starts `emulator -machine none` with QMP on stdio and runs `fn` against it; QEMU is killed afterwards. */
async function withBareQemu<T>(emulator: string, accel: 'tcg' | 'kvm', fn: (qmp: QmpClient) => Promise<T>): Promise<T> {
  const args = ['-machine', 'none', '-accel', accel, '-S', '-nodefaults', '-display', 'none', '-no-user-config', '-qmp', 'stdio'];
  const child = spawn(emulator, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(virtError(ErrorCode.INTERNAL_ERROR, `cannot run '${emulator}': ${err.message}`)));
  });
  let qmp: QmpClient | undefined;
  try {
    qmp = await Promise.race([QmpClient.handshake(Duplex.from({ readable: child.stdout, writable: child.stdin }), 10_000), spawnError]);
    return await fn(qmp);
  } catch (err) {
    const detail = stderr.trim();
    if (detail) throw virtError(ErrorCode.INTERNAL_ERROR, `probing '${emulator}' failed: ${(err as Error).message}: ${detail}`);
    throw err;
  } finally {
    qmp?.close();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Asks `emulator` (an absolute path) what it offers. Takes ~0.2 s, plus the KVM guest run when /dev/kvm exists. */
export async function probeQemu(emulator: string, options: ProbeOptions = {}): Promise<QemuProbe> {
  const base = await withBareQemu(emulator, 'tcg', async (qmp) => {
    const [version, target, machines, schema, types] = await Promise.all([
      qmp.execute('query-version'),
      qmp.execute('query-target'),
      qmp.execute('query-machines'),
      qmp.execute('query-qmp-schema'),
      qmp.execute('qom-list-types', { abstract: false }),
    ]);
    const cpuType = types.find((t) => /^max-.*-cpu$/.test(t.name))?.name;
    const cpuProps = cpuType ? await qmp.execute('qom-list-properties', { typename: cpuType }).catch(() => []) : [];
    return { version, target, machines, schema, types, cpuProps };
  });
  const { major, minor, micro } = base.version.qemu;
  const x86 = base.target.arch === 'x86_64' || base.target.arch === 'i386';
  let kvm: KvmVerdict;
  if (options.skipKvm) kvm = { usable: false, reason: 'KVM not probed' };
  else if (!x86) kvm = { usable: false, reason: `KVM probe not implemented for ${base.target.arch}` };
  else kvm = await probeKvm(emulator, { timeoutMs: options.kvmTimeoutMs });
  // The default CPU of a machine differs between accelerators, so libvirt asks twice; only when KVM works.
  const kvmMachines = kvm.usable ? await withBareQemu(emulator, 'kvm', (qmp) => qmp.execute('query-machines')) : [];
  const names = (metaType: string): string[] =>
    base.schema
      .filter((e) => e['meta-type'] === metaType)
      .map((e) => e.name)
      .sort();
  return {
    emulator,
    version: { major, minor, micro, package: base.version.package },
    versionNumber: major * 1_000_000 + minor * 1_000 + micro,
    arch: ARCH_NAMES[base.target.arch] ?? base.target.arch,
    machines: { tcg: sortMachines(base.machines), kvm: sortMachines(kvmMachines) },
    qomTypes: base.types.map((t) => t.name).sort(),
    cpuProperties: base.cpuProps.map((p) => p.name).sort(),
    commands: names('command'),
    events: names('event'),
    kvm,
  };
}
