/** `define` and `create`: a domain from an XML file, persistent or started at once (transient). */
import { DomainDefine, DomainStart } from '../../api/flags.js';
import { defineCommand, flag, str } from '../command.js';
import { withContext } from '../errors.js';
import { fileOption } from './options.js';

const validateOption = { name: 'validate', kind: 'bool' as const, help: 'validate the XML against the schema' };

export const define = defineCommand({
  name: 'define',
  group: 'domain',
  summary: "define (but don't start) a domain from an XML file",
  description: 'Define a domain.',
  options: [
    fileOption('file containing an XML domain description'),
    validateOption,
    {
      name: 'hotplug-slots',
      kind: 'number',
      positional: false,
      help: 'reserve N free hot-plug slots (q35: empty pcie-root-ports) for devices plugged while it runs (virtkit extension)',
    },
  ],
  async run(ctx, args) {
    const file = str(args, 'file')!;
    const slots = str(args, 'hotplug-slots');
    const conn = await ctx.connection();
    const xml = await ctx.readFile(file);
    const flags = flag(args, 'validate') ? DomainDefine.VALIDATE : 0;
    const options = slots === undefined ? undefined : { hotplugSlots: Number(slots) };
    const dom = await withContext(`Failed to define domain from ${file}`, () =>
      options ? conn.defineXMLFlags(xml, flags, options) : conn.defineXMLFlags(xml, flags),
    );
    ctx.info(`Domain '${dom.name}' defined from ${file}\n`);
  },
});

export const create = defineCommand({
  name: 'create',
  group: 'domain',
  summary: 'create a domain from an XML file',
  description: 'Create a domain.',
  options: [
    fileOption('file containing an XML domain description'),
    { name: 'paused', kind: 'bool', help: 'leave the guest paused after creation' },
    { name: 'autodestroy', kind: 'bool', help: 'automatically destroy the guest when virtkit disconnects' },
    validateOption,
  ],
  async run(ctx, args) {
    const file = str(args, 'file')!;
    const conn = await ctx.connection();
    const xml = await ctx.readFile(file);
    let flags = 0;
    if (flag(args, 'paused')) flags |= DomainStart.PAUSED;
    if (flag(args, 'autodestroy')) flags |= DomainStart.AUTODESTROY;
    if (flag(args, 'validate')) flags |= DomainStart.VALIDATE;
    const dom = await withContext(`Failed to create domain from ${file}`, () => conn.createXML(xml, flags));
    ctx.info(`Domain '${dom.name}' created from ${file}\n`);
  },
});
