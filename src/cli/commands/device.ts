/** `attach-device`, `detach-device`, `update-device`: device XML from a file, virsh's flag rules. */
import { DeviceModify } from '../../api/flags.js';
import { defineCommand, flag, str } from '../command.js';
import { withContext } from '../errors.js';
import { deviceImpact, IMPACT_EXCLUSIVE, impactOptions } from '../impact.js';
import { contractOptionDefs, contractOptions, detachXml, reportOutcome } from '../detach-contract.js';
import { pendingNote } from '../pending.js';
import type { DetachOutcome } from '../../shared/hotplug-contract.js';
import { domainOption, fileOption } from './options.js';

export const attachDevice = defineCommand({
  name: 'attach-device',
  group: 'domain',
  summary: 'attach device from an XML file',
  description: 'Attach device from an XML <file>.',
  options: [domainOption(), fileOption('XML file'), ...impactOptions()],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx, args) {
    const file = str(args, 'file')!;
    const dom = await ctx.domain(str(args, 'domain')!);
    const { flags, flagless } = await deviceImpact(args, dom);
    const xml = await ctx.readFile(file);
    await withContext(`Failed to attach device from ${file}`, () =>
      flagless ? dom.attachDevice(xml) : dom.attachDeviceFlags(xml, flags),
    );
    ctx.info('Device attached successfully\n');
  },
});

export const detachDevice = defineCommand({
  name: 'detach-device',
  group: 'domain',
  summary: 'detach device from an XML file',
  description: 'Detach device from an XML <file>',
  options: [domainOption(), fileOption('XML file'), ...impactOptions(), ...contractOptionDefs()],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx, args) {
    const file = str(args, 'file')!;
    const contract = contractOptions(args);
    const dom = await ctx.domain(str(args, 'domain')!);
    const { flags, flagless } = await deviceImpact(args, dom);
    const xml = await ctx.readFile(file);
    const result = await withContext(`Failed to detach device from ${file}`, () => detachXml(dom, xml, flags, flagless, contract));
    if (contract) return withContext(`Failed to detach device from ${file}`, async () => reportOutcome(ctx, result as DetachOutcome, 'Device detached successfully', contract));
    ctx.info('Device detached successfully\n');
    // `pending`: the guest has not acknowledged the unplug yet; a device-removed event will follow.
    if (result.outcome === 'pending') ctx.note(pendingNote(result.alias));
  },
});

export const updateDevice = defineCommand({
  name: 'update-device',
  group: 'domain',
  summary: 'update device from an XML file',
  description: 'Update device from an XML <file>.',
  options: [domainOption(), fileOption('XML file'), ...impactOptions(), { name: 'force', kind: 'bool', help: 'force device update' }],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx, args) {
    const file = str(args, 'file')!;
    const dom = await ctx.domain(str(args, 'domain')!);
    let { flags } = await deviceImpact(args, dom);
    if (flag(args, 'force')) flags |= DeviceModify.FORCE;
    const xml = await ctx.readFile(file);
    // virsh always uses the *Flags API here: update has no flag-less variant.
    await withContext(`Failed to update device from ${file}`, () => dom.updateDeviceFlags(xml, flags));
    ctx.info('Device updated successfully\n');
  },
});
