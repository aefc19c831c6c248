/** `domiflist`: a domain's NICs with the names libvirt allocated (Interface, Type, Source, Model, MAC). */
import { listInterfaces } from '../../api/device-summaries.js';
import { DomainXML } from '../../api/flags.js';
import { defineCommand, flag, str } from '../command.js';
import { formatJson } from '../format/json.js';
import { formatTable } from '../format/table.js';
import { domainOption, jsonOption } from './options.js';

export const domiflist = defineCommand({
  name: 'domiflist',
  group: 'monitor',
  summary: 'list all domain virtual interfaces',
  description: 'Get the summary of virtual interfaces for a domain.',
  options: [domainOption(), { name: 'inactive', kind: 'bool', help: 'get inactive rather than running configuration' }, jsonOption],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const nics = listInterfaces(await dom.getXMLDesc(flag(args, 'inactive') ? DomainXML.INACTIVE : 0));
    if (flag(args, 'json')) {
      ctx.out(formatJson(nics));
      return;
    }
    const dash = (v: string | undefined): string => v ?? '-';
    const rows = nics.map((n) => [dash(n.interface), n.type, dash(n.source), dash(n.model), dash(n.mac)]);
    ctx.out(formatTable(['Interface', 'Type', 'Source', 'Model', 'MAC'], rows, ctx.quiet));
  },
});
