/** `start`, `destroy`, `shutdown`, `suspend`, `resume`: one API call each, with virsh's messages. */
import { DomainDestroy, DomainShutdown, DomainStart } from '../../api/flags.js';
import { ErrorCode, VirtError } from '../../errors.js';
import { defineCommand, flag, str } from '../command.js';
import { UsageError, withContext } from '../errors.js';
import { domainOption } from './options.js';

const DESTROY_GRACEFUL = DomainDestroy.GRACEFUL;
/** virDomainShutdownFlagValues by virsh's --mode words. */
const SHUTDOWN_MODES: Record<string, number> = {
  acpi: DomainShutdown.ACPI_POWER_BTN,
  agent: DomainShutdown.GUEST_AGENT,
  initctl: DomainShutdown.INITCTL,
  signal: DomainShutdown.SIGNAL,
  paravirt: DomainShutdown.PARAVIRT,
};

export const start = defineCommand({
  name: 'start',
  group: 'domain',
  summary: 'start a (previously defined) inactive domain',
  description: 'Start a domain, either from the last managedsave state, or via a fresh boot if no managedsave state is present.',
  options: [
    domainOption('name of the inactive domain'),
    { name: 'paused', kind: 'bool', help: 'leave the guest paused after creation' },
    { name: 'autodestroy', kind: 'bool', help: 'automatically destroy the guest when virtkit disconnects' },
    { name: 'bypass-cache', kind: 'bool', help: 'avoid file system cache when loading' },
    { name: 'force-boot', kind: 'bool', help: 'force fresh boot by discarding any managed save' },
  ],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    // virsh checks this itself before calling the API, with this wording.
    if (await dom.isActive()) throw new VirtError(ErrorCode.OPERATION_INVALID, 'Domain is already active');
    let flags = 0;
    if (flag(args, 'paused')) flags |= DomainStart.PAUSED;
    if (flag(args, 'autodestroy')) flags |= DomainStart.AUTODESTROY;
    if (flag(args, 'bypass-cache')) flags |= DomainStart.BYPASS_CACHE;
    if (flag(args, 'force-boot')) flags |= DomainStart.FORCE_BOOT;
    await withContext(`Failed to start domain '${dom.name}'`, () => (flags ? dom.createWithFlags(flags) : dom.create()));
    ctx.info(`Domain '${dom.name}' started\n`);
  },
});

export const destroy = defineCommand({
  name: 'destroy',
  group: 'domain',
  summary: 'destroy (stop) a domain',
  description: 'Forcefully stop a given domain, but leave its resources intact.',
  options: [domainOption(), { name: 'graceful', kind: 'bool', help: 'terminate gracefully' }],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const graceful = flag(args, 'graceful');
    await withContext(`Failed to destroy domain '${dom.name}'`, () => (graceful ? dom.destroyFlags(DESTROY_GRACEFUL) : dom.destroy()));
    ctx.info(`Domain '${dom.name}' destroyed\n`);
  },
});

export const shutdown = defineCommand({
  name: 'shutdown',
  group: 'domain',
  summary: 'gracefully shutdown a domain',
  description: 'Run shutdown in the target domain.',
  options: [domainOption(), { name: 'mode', kind: 'string', help: 'shutdown mode: acpi|agent|initctl|signal|paravirt' }],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    let flags = 0;
    for (const mode of (str(args, 'mode') ?? '').split(',').filter(Boolean)) {
      const bit = SHUTDOWN_MODES[mode];
      if (bit === undefined) throw new UsageError(`Unknown mode ${mode} value, expecting 'acpi', 'agent', 'initctl', 'signal', or 'paravirt'`);
      flags |= bit;
    }
    await withContext(`Failed to shutdown domain '${dom.name}'`, () => (flags ? dom.shutdownFlags(flags) : dom.shutdown()));
    ctx.info(`Domain '${dom.name}' is being shutdown\n`);
  },
});

export const suspend = defineCommand({
  name: 'suspend',
  group: 'domain',
  summary: 'suspend a domain',
  description: 'Suspend a running domain.',
  options: [domainOption()],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    await withContext(`Failed to suspend domain '${dom.name}'`, () => dom.suspend());
    ctx.info(`Domain '${dom.name}' suspended\n`);
  },
});

export const resume = defineCommand({
  name: 'resume',
  group: 'domain',
  summary: 'resume a domain',
  description: 'Resume a previously suspended domain.',
  options: [domainOption()],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    await withContext(`Failed to resume domain '${dom.name}'`, () => dom.resume());
    ctx.info(`Domain '${dom.name}' resumed\n`);
  },
});
