/** `undefine`: removes a domain's persistent definition (a running domain becomes transient). */
import { DomainUndefine } from '../../api/flags.js';
import { defineCommand, flag, str } from '../command.js';
import { withContext } from '../errors.js';
import { domainOption } from './options.js';

/** virsh's undefine switches that map straight to DomainUndefine flags. */
const FLAGS: [string, number, string][] = [
  ['managed-save', DomainUndefine.MANAGED_SAVE, 'remove domain managed state file'],
  ['snapshots-metadata', DomainUndefine.SNAPSHOTS_METADATA, 'remove all domain snapshot metadata (vm must be inactive)'],
  ['checkpoints-metadata', DomainUndefine.CHECKPOINTS_METADATA, 'remove all domain checkpoint metadata (vm must be inactive)'],
  ['nvram', DomainUndefine.NVRAM, 'remove nvram file'],
  ['keep-nvram', DomainUndefine.KEEP_NVRAM, 'keep nvram file'],
  ['tpm', DomainUndefine.TPM, 'remove TPM state'],
  ['keep-tpm', DomainUndefine.KEEP_TPM, 'keep TPM state'],
];

export const undefine = defineCommand({
  name: 'undefine',
  group: 'domain',
  summary: 'undefine a domain',
  description: 'Undefine an inactive domain, or convert persistent to transient.',
  options: [domainOption(), ...FLAGS.map(([name, , help]) => ({ name, kind: 'bool' as const, help }))],
  exclusive: [
    ['nvram', 'keep-nvram'],
    ['tpm', 'keep-tpm'],
  ],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    let flags = 0;
    for (const [name, bit] of FLAGS) if (flag(args, name)) flags |= bit;
    await withContext(`Failed to undefine domain '${dom.name}'`, () => (flags ? dom.undefineFlags(flags) : dom.undefine()));
    ctx.info(`Domain '${dom.name}' has been undefined\n`);
  },
});
