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
  options: [
    domainOption(),
    ...FLAGS.map(([name, , help]) => ({ name, kind: 'bool' as const, help })),
    { name: 'xpath', kind: 'string', help: 'xpath expression to filter the XML document' },
    { name: 'wrap', kind: 'bool', help: 'wrap xpath results in an common root element' },
  ],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    let flags = 0;
    for (const [name, bit] of FLAGS) if (flag(args, name)) flags |= bit;
    const xml = await dom.getXMLDesc(flags);
    const xpath = str(args, 'xpath');
    if (xpath === undefined) {
      ctx.out(xml.endsWith('\n') ? xml : xml + '\n');
      return;
    }
    const { selectXPath } = await import('../xpath.js');
    const selected = await selectXPath(xml, xpath, flag(args, 'wrap'));
    if (selected !== '') ctx.out(selected + '\n');
  },
});
