/** `domid`, `domuuid`, `domname`: convert between a domain's id, UUID and name. */
import { defineCommand, str } from '../command.js';
import { domainOption } from './options.js';

export const domid = defineCommand({
  name: 'domid',
  group: 'domain',
  summary: 'convert a domain name or UUID to domain id',
  description: '',
  options: [domainOption('domain name or uuid')],
  async run(ctx, args) {
    const id = await (await ctx.domain(str(args, 'domain')!, { name: true, uuid: true })).getID();
    ctx.out(id >= 0 ? `${id}\n` : '-\n');
  },
});

export const domuuid = defineCommand({
  name: 'domuuid',
  group: 'domain',
  summary: 'convert a domain name or id to domain UUID',
  description: '',
  options: [domainOption('domain id or name')],
  async run(ctx, args) {
    ctx.out(`${(await ctx.domain(str(args, 'domain')!, { id: true, name: true })).uuid}\n`);
  },
});

export const domname = defineCommand({
  name: 'domname',
  group: 'domain',
  summary: 'convert a domain id or UUID to domain name',
  description: '',
  options: [domainOption('domain id or uuid')],
  async run(ctx, args) {
    ctx.out(`${(await ctx.domain(str(args, 'domain')!, { id: true, uuid: true })).name}\n`);
  },
});
