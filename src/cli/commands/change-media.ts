/** `change-media`: eject, insert or swap a CD-ROM/floppy medium through update-device. */
import { buildMediaChangeXml, type MediaAction } from '../../api/device-builders.js';
import { DeviceModify, DomainXML } from '../../api/flags.js';
import { defineCommand, flag, str } from '../command.js';
import { UsageError, withContext } from '../errors.js';
import { domainOption, printXmlOption } from './options.js';

const DONE: Record<MediaAction, string> = {
  eject: 'Successfully ejected media.',
  insert: 'Successfully inserted media.',
  update: 'Successfully updated media.',
};

export const changeMedia = defineCommand({
  name: 'change-media',
  group: 'domain',
  summary: 'Change media of CD or floppy drive',
  description: 'Change media of CD or floppy drive.',
  options: [
    domainOption(),
    { name: 'path', kind: 'string', required: true, help: 'Fully-qualified path or target of disk device' },
    { name: 'source', kind: 'string', help: 'source of the media' },
    { name: 'eject', kind: 'bool', help: 'Eject the media' },
    { name: 'insert', kind: 'bool', help: 'Insert the media' },
    { name: 'update', kind: 'bool', help: 'Update the media' },
    { name: 'current', kind: 'bool', help: 'can be either or both of --live and --config, depends on implementation hypervisor driver' },
    { name: 'live', kind: 'bool', help: 'alter live configuration of running domain' },
    { name: 'config', kind: 'bool', help: 'alter persistent configuration, effect observed on next boot' },
    { name: 'force', kind: 'bool', help: 'force media changing' },
    printXmlOption('change media'),
    { name: 'block', kind: 'bool', help: 'source media is a block device' },
  ],
  exclusive: [
    ['eject', 'insert'],
    ['eject', 'update'],
    ['insert', 'update'],
    ['current', 'live'],
    ['current', 'config'],
  ],
  async run(ctx, args) {
    const action: MediaAction = flag(args, 'eject') ? 'eject' : flag(args, 'insert') ? 'insert' : 'update';
    const source = str(args, 'source');
    // Only an explicit --update may go without a source (it then ejects); the implicit one needs it.
    if (action === 'update' && !flag(args, 'update') && !source) throw new UsageError('New disk media source was not specified');
    const dom = await ctx.domain(str(args, 'domain')!);
    let flags = 0;
    if (flag(args, 'config')) flags |= DeviceModify.CONFIG;
    if (flag(args, 'live')) flags |= DeviceModify.LIVE;
    if (flag(args, 'force')) flags |= DeviceModify.FORCE;
    const domainXml = await dom.getXMLDesc(flags & DeviceModify.CONFIG ? DomainXML.INACTIVE : 0);
    const xml = buildMediaChangeXml(domainXml, str(args, 'path')!, { action, source, block: flag(args, 'block') });
    if (flag(args, 'print-xml')) {
      ctx.out(xml);
      return;
    }
    await withContext(`Failed to complete action ${action} on media`, () => dom.updateDeviceFlags(xml, flags));
    ctx.info(`${DONE[action]}\n`);
  },
});
