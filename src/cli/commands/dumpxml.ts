/** `dumpxml`: the domain's live XML, or its persistent definition with --inactive. */
import { DomainXML } from '../../api/flags.js';
import { defineCommand, flag, str } from '../command.js';
import { domainOption } from './options.js';

/** virsh's switches and the DomainXML flag each sets. */
const FLAGS: [string, number, string][] = [
  ['inactive', DomainXML.INACTIVE, 'show inactive defined XML'],
  ['security-info', DomainXML.SECURE, 'include security sensitive information in XML dump'],
  ['update-cpu', DomainXML.UPDATE_CPU, 'update guest CPU according to host CPU'],
  ['migratable', DomainXML.MIGRATABLE, 'provide XML suitable for migrations'],
];

export const dumpxml = defineCommand({
  name: 'dumpxml',
  group: 'domain',
  summary: 'domain information in XML',
  description: 'Output the domain information as an XML dump to stdout.',
  options: [domainOption(), ...FLAGS.map(([name, , help]) => ({ name, kind: 'bool' as const, help }))],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    let flags = 0;
    for (const [name, bit] of FLAGS) if (flag(args, name)) flags |= bit;
    const xml = await dom.getXMLDesc(flags);
    ctx.out(xml.endsWith('\n') ? xml : xml + '\n');
  },
});
