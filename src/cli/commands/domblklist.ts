/** `domblklist`: a domain's disks (Target, Source; with --details Type and Device too). */
import { listDisks } from '../../api/device-summaries.js';
import { DomainXML } from '../../api/flags.js';
import { defineCommand, flag, str } from '../command.js';
import { formatJson } from '../format/json.js';
import { formatTable } from '../format/table.js';
import { domainOption, jsonOption } from './options.js';

export const domblklist = defineCommand({
  name: 'domblklist',
  group: 'monitor',
  summary: 'list all domain blocks',
  description: 'Get the summary of block devices for a domain.',
  options: [
    domainOption(),
    { name: 'inactive', kind: 'bool', help: 'get inactive rather than running configuration' },
    { name: 'details', kind: 'bool', help: 'additionally display the type and device value' },
    jsonOption,
  ],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const details = flag(args, 'details');
    const disks = listDisks(await dom.getXMLDesc(flag(args, 'inactive') ? DomainXML.INACTIVE : 0), { details });
    if (flag(args, 'json')) {
      ctx.out(formatJson(disks));
    } else if (details) {
      ctx.out(formatTable(['Type', 'Device', 'Target', 'Source'], disks.map((d) => [d.type, d.device, d.target, d.source ?? '-']), ctx.quiet));
    } else {
      ctx.out(formatTable(['Target', 'Source'], disks.map((d) => [d.target, d.source ?? '-']), ctx.quiet));
    }
  },
});
