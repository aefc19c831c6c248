/** `reboot`, `autostart`, `setmem`, `setmaxmem`, `setvcpus`: one API call each, with virsh's flag rules and messages. */
import { DomainMemory, DomainReboot, DomainVcpus } from '../../api/flags.js';
import { ErrorCode, ErrorDomain, VirtError } from '../../errors.js';
import { type Args, defineCommand, flag, type OptionDef, str } from '../command.js';
import { UsageError, withContext } from '../errors.js';
import { bytesToKiB, parseScaled } from '../format/size.js';
import { domainOption } from './options.js';

/** virDomainRebootFlagValues (and shutdown's) by virsh's --mode words. */
const REBOOT_MODES: Record<string, number> = {
  acpi: DomainReboot.ACPI_POWER_BTN,
  agent: DomainReboot.GUEST_AGENT,
  initctl: DomainReboot.INITCTL,
  signal: DomainReboot.SIGNAL,
  paravirt: DomainReboot.PARAVIRT,
};

export const reboot = defineCommand({
  name: 'reboot',
  group: 'domain',
  summary: 'reboot a domain',
  description: 'Run a reboot command in the target domain.',
  options: [domainOption(), { name: 'mode', kind: 'string', help: 'shutdown mode: acpi|agent|initctl|signal|paravirt' }],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    let flags = 0;
    for (const mode of (str(args, 'mode') ?? '').split(',').filter(Boolean)) {
      const bit = REBOOT_MODES[mode];
      if (bit === undefined) throw new UsageError(`Unknown mode ${mode} value, expecting 'acpi', 'agent', 'initctl', 'signal' or 'paravirt'`);
      flags |= bit;
    }
    await withContext(`Failed to reboot domain '${dom.name}'`, () => dom.reboot(flags));
    ctx.info(`Domain '${dom.name}' is being rebooted\n`);
  },
});

export const autostart = defineCommand({
  name: 'autostart',
  group: 'domain',
  summary: 'autostart a domain',
  description: 'Configure a domain to be automatically started at boot.',
  options: [domainOption(), { name: 'disable', kind: 'bool', help: 'disable autostarting' }],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const on = !flag(args, 'disable');
    await withContext(on ? `Failed to mark domain '${dom.name}' as autostarted` : `Failed to unmark domain '${dom.name}' as autostarted`, () =>
      dom.setAutostart(on),
    );
    ctx.info(on ? `Domain '${dom.name}' marked as autostarted\n` : `Domain '${dom.name}' unmarked as autostarted\n`);
  },
});

/** --config/--live/--current as virsh's setmem family reads them; `undefined` when none was given. */
function affect(args: Args): number | undefined {
  if (!flag(args, 'config') && !flag(args, 'live') && !flag(args, 'current')) return undefined;
  let flags = 0;
  if (flag(args, 'config')) flags |= DomainMemory.CONFIG;
  if (flag(args, 'live')) flags |= DomainMemory.LIVE;
  return flags;
}

const affectOptions: OptionDef[] = [
  { name: 'config', kind: 'bool', help: 'affect next boot' },
  { name: 'live', kind: 'bool', help: 'affect running domain' },
  { name: 'current', kind: 'bool', help: 'affect current domain' },
];
const AFFECT_EXCLUSIVE: [string, string][] = [
  ['current', 'live'],
  ['current', 'config'],
];

/** The size option in KiB; virsh refuses sizes that do not fit libvirt's unsigned long of KiB. */
function sizeKiB(args: Args): number {
  return bytesToKiB(parseScaled('size', str(args, 'size')!, 1024, BigInt(Number.MAX_SAFE_INTEGER) * 1024n));
}

export const setmem = defineCommand({
  name: 'setmem',
  group: 'domain',
  summary: 'change memory allocation',
  description: 'Change the current memory allocation in the guest domain.',
  options: [
    domainOption(),
    { name: 'size', kind: 'number', required: true, ownNumberCheck: true, help: 'new memory size, as scaled integer (default KiB)' },
    ...affectOptions,
  ],
  exclusive: AFFECT_EXCLUSIVE,
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const kib = sizeKiB(args);
    const flags = affect(args);
    // No flag: virDomainSetMemory, which changes the running domain only (as virsh).
    await (flags === undefined ? dom.setMemory(kib) : dom.setMemoryFlags(kib, flags));
  },
});

export const setmaxmem = defineCommand({
  name: 'setmaxmem',
  group: 'domain',
  summary: 'change maximum memory limit',
  description: 'Change the maximum memory allocation limit in the guest domain.',
  options: [
    domainOption(),
    { name: 'size', kind: 'number', required: true, ownNumberCheck: true, help: 'new maximum memory size, as scaled integer (default KiB)' },
    ...affectOptions,
  ],
  exclusive: AFFECT_EXCLUSIVE,
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const kib = sizeKiB(args);
    const flags = affect(args);
    await withContext('Unable to change MaxMemorySize', () =>
      flags === undefined ? dom.setMaxMemory(kib) : dom.setMemoryFlags(kib, flags | DomainMemory.MAXIMUM),
    );
  },
});

export const setvcpus = defineCommand({
  name: 'setvcpus',
  group: 'domain',
  summary: 'change number of virtual CPUs',
  description: 'Change the number of virtual CPUs in the guest domain.',
  options: [
    domainOption(),
    { name: 'count', kind: 'number', required: true, help: 'number of virtual CPUs' },
    { name: 'maximum', kind: 'bool', help: 'set maximum limit on next boot' },
    ...affectOptions,
    { name: 'guest', kind: 'bool', help: 'modify cpu state in the guest' },
    { name: 'hotpluggable', kind: 'bool', help: 'make added vcpus hot(un)pluggable' },
  ],
  exclusive: [...AFFECT_EXCLUSIVE, ['guest', 'config']],
  requires: [['maximum', 'config']],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const count = Number(str(args, 'count'));
    if (count === 0) throw new VirtError(ErrorCode.INVALID_ARG, "Can't set 0 processors for a VM", { domain: ErrorDomain.NONE });
    let flags = affect(args);
    const extra = (flag(args, 'maximum') ? DomainVcpus.MAXIMUM : 0) | (flag(args, 'guest') ? DomainVcpus.GUEST : 0) | (flag(args, 'hotpluggable') ? DomainVcpus.HOTPLUGGABLE : 0);
    if (extra) flags = (flags ?? 0) | extra;
    // No flag: virDomainSetVcpus, which changes the running domain only (as virsh).
    await (flags === undefined ? dom.setVcpus(count) : dom.setVcpusFlags(count, flags));
  },
});
