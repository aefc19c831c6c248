/** `domstate`: the state word, with `--reason` the reason in parentheses. */
import { defineCommand, flag, str } from '../command.js';
import { reasonName, stateName } from '../format/states.js';
import { domainOption } from './options.js';

export const domstate = defineCommand({
  name: 'domstate',
  group: 'monitor',
  summary: 'domain state',
  description: 'Returns state about a domain.',
  options: [domainOption(), { name: 'reason', kind: 'bool', help: 'also print reason for the state' }],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const { state, reason } = await dom.getState();
    ctx.out(flag(args, 'reason') ? `${stateName(state)} (${reasonName(state, reason)})\n` : `${stateName(state)}\n`);
  },
});
