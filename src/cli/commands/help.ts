/** `help [COMMAND|GROUP]`: the grouped command list, one command's page, or one group. */
import { type CommandDef, defineCommand, str } from '../command.js';
import { UsageError } from '../errors.js';
import { formatCommandHelp, formatGroups, GROUPS } from '../format/help.js';
import { suggest } from '../hint.js';

/** Builds `help` over the command table (passed lazily: the table contains this command). */
export function makeHelp(all: () => readonly CommandDef[]): CommandDef {
  return defineCommand({
    name: 'help',
    group: 'virsh',
    noConnect: true,
    summary: 'print help',
    description: 'Prints global help, command specific help, or help for a group of related commands',
    options: [
      {
        name: 'command',
        kind: 'string',
        help: 'Prints global help, command specific help, or help for a group of related commands',
        complete: 'command',
      },
    ],
    async run(ctx, args) {
      const commands = all();
      const name = str(args, 'command');
      if (name === undefined) {
        ctx.out('Grouped commands:\n\n' + formatGroups(commands));
        return;
      }
      const cmd = commands.find((c) => c.name === name);
      if (cmd) {
        ctx.out(formatCommandHelp(cmd));
        return;
      }
      const group = GROUPS.find((g) => g.keywords.includes(name));
      if (group) {
        ctx.out(formatGroups(commands, [group]));
        return;
      }
      const guess = suggest(name, [...commands.map((c) => c.name), ...GROUPS.flatMap((g) => g.keywords)]);
      throw new UsageError(`command or command group '${name}' doesn't exist`, guess ? `did you mean '${guess}'?` : undefined);
    },
  });
}
