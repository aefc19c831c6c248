/** virtkit's hot-plug contract commands: `pending-devices` (unplugs the guest has not answered) and `isolate-device`. */
import { defineCommand, flag, str } from '../command.js';
import { withContext } from '../errors.js';
import { formatJson } from '../format/json.js';
import { formatTable } from '../format/table.js';
import { domainOption, jsonOption } from './options.js';

function age(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

export const pendingDevicesCommand = defineCommand({
  name: 'pending-devices',
  group: 'monitor',
  summary: 'list devices whose unplug is pending (virtkit extension)',
  description:
    'List the devices of a running domain whose unplug request the guest has not answered yet, with why (guest-not-acknowledging, paused, guest-busy), since when and the request id their device-removed event will carry.',
  options: [domainOption(), jsonOption],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const pending = await withContext('Failed to list pending devices', () => dom.pendingDevices());
    if (flag(args, 'json')) {
      ctx.out(formatJson(pending.map((p) => ({ ...p, since: new Date(p.since).toISOString() }))));
      return;
    }
    const rows = pending.map((p) => [p.alias, p.state, p.reason, age(p.ageMs), new Date(p.since).toISOString(), p.requestId ?? '-']);
    ctx.out(formatTable(['Alias', 'State', 'Reason', 'Age', 'Since', 'Request'], rows, ctx.quiet));
  },
});

export const isolateDeviceCommand = defineCommand({
  name: 'isolate-device',
  group: 'domain',
  summary: 'cut a device stuck in unplug off from the host (virtkit extension)',
  description:
    'For a device whose unplug the guest does not answer: take the interface link down and its tap off its bridge, or revoke a disk backend\'s access to its image, without the guest. The device is then pending until the guest releases it or the domain stops.',
  options: [domainOption(), { name: 'alias', kind: 'string', required: true, help: 'device alias' }],
  async run(ctx, args) {
    const alias = str(args, 'alias')!;
    const dom = await ctx.domain(str(args, 'domain')!);
    const r = await withContext(`Failed to isolate device ${alias}`, () => dom.isolateDevice(alias));
    ctx.info(`Device '${r.alias}' isolated: pending until the guest releases it or the domain stops\n`);
  },
});

export const persistDeviceCommand = defineCommand({
  name: 'persist-device',
  group: 'domain',
  summary: 'make a hot-plugged device persistent with its MAC and address (virtkit extension)',
  description:
    'Add a device plugged into the running domain only (attach-device without --config) to the persistent definition, keeping the MAC and PCI address it has in the guest, so it comes back in the same slot after a restart.',
  options: [domainOption(), { name: 'alias', kind: 'string', required: true, help: 'device alias' }],
  async run(ctx, args) {
    const alias = str(args, 'alias')!;
    const dom = await ctx.domain(str(args, 'domain')!);
    await withContext(`Failed to persist device ${alias}`, () => dom.persistDevice(alias));
    ctx.info(`Device '${alias}' added to the persistent definition with its MAC and address\n`);
  },
});
