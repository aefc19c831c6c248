/** `detach-device-alias`: asynchronous unplug by alias (`net0`, `ua-disk1`); completion is a device-removed event. */
import { defineCommand, str } from '../command.js';
import { withContext } from '../errors.js';
import { deviceImpact, IMPACT_EXCLUSIVE, impactOptions } from '../impact.js';
import { contractOptionDefs, contractOptions, reportOutcome } from '../detach-contract.js';
import { domainOption } from './options.js';

export const detachDeviceAlias = defineCommand({
  name: 'detach-device-alias',
  group: 'domain',
  summary: 'detach device from an alias',
  description: 'Detach device identified by the given alias from a domain',
  options: [domainOption(), { name: 'alias', kind: 'string', required: true, help: 'device alias' }, ...impactOptions(false), ...contractOptionDefs()],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx, args) {
    const alias = str(args, 'alias')!;
    const contract = contractOptions(args);
    const dom = await ctx.domain(str(args, 'domain')!);
    const { flags } = await deviceImpact(args, dom);
    if (contract) {
      const r = await withContext(`Failed to detach device with alias ${alias}`, () => dom.detachDeviceAlias(alias, flags, contract));
      return withContext(`Failed to detach device with alias ${alias}`, async () =>
        reportOutcome(ctx, r, 'Device detached successfully', contract, 'Device detach request sent successfully'),
      );
    }
    await withContext(`Failed to detach device with alias ${alias}`, () => dom.detachDeviceAlias(alias, flags));
    // The API only sends the request (libvirt passes async=true); virsh words it so whatever the outcome.
    ctx.info('Device detach request sent successfully\n');
  },
});
