/** Small virsh built-ins: `echo`, `quit`/`exit`, `uri`. */
import { defineCommand, words } from '../command.js';

export const echo = defineCommand({
  name: 'echo',
  group: 'virsh',
  summary: 'echo arguments',
  description: 'Echo back arguments, separated by space (handy in scripts).',
  options: [{ name: 'string', kind: 'argv', help: 'arguments to echo' }],
  async run(ctx, args) {
    ctx.out(words(args, 'string').join(' ') + '\n');
  },
});

function quitCommand(name: string): ReturnType<typeof defineCommand> {
  return defineCommand({
    name,
    group: 'virsh',
    summary: 'quit this interactive terminal',
    description: 'Stop reading commands (the rest of a script or command string is skipped).',
    options: [],
    async run(ctx) {
      ctx.quit();
    },
  });
}

export const quit = quitCommand('quit');
export const exit = quitCommand('exit');

export const uri = defineCommand({
  name: 'uri',
  group: 'host',
  summary: 'print the hypervisor canonical URI',
  description: 'Prints the URI of the connection.',
  options: [],
  async run(ctx) {
    ctx.out(`${(await ctx.connection()).getURI()}\n`);
  },
});
