/**
 * `console`: the terminal joined to a running guest's console, as virsh does it: raw mode,
 * everything typed goes to the guest, everything from the guest to the screen, until the
 * escape character (`^]`, or `-e`) is typed. On the test driver the "guest" echoes.
 */
import type { ConsoleStream } from '../../shared/host-types.js';
import { ErrorCode, ErrorDomain, VirtError } from '../../errors.js';
import { defineCommand, flag, str } from '../command.js';
import { domainOption } from './options.js';

/** The byte that ends the session: `^]` style for control characters, else the character itself. */
export function escapeByte(spec: string): number {
  if (spec.length === 2 && spec[0] === '^') return spec.toUpperCase().charCodeAt(1) ^ 0x40;
  if (spec.length === 1) return spec.charCodeAt(0);
  throw new VirtError(ErrorCode.INVALID_ARG, `Invalid escape character '${spec}'`, { domain: ErrorDomain.NONE });
}

/** How the escape character is shown in the greeting: `^] (Ctrl + ])`. */
function describeEscape(spec: string): string {
  return spec.length === 2 && spec[0] === '^' ? `${spec} (Ctrl + ${spec[1]})` : spec;
}

/** Pumps the terminal into the console and the console onto the terminal until the escape byte or the guest's end. */
async function join(stream: ConsoleStream, escapeCode: number): Promise<void> {
  const stdin = process.stdin;
  // Whoever else reads the terminal (the interactive prompt's readline) waits while the console owns it.
  const borrowed = stdin.listeners('keypress') as ((...a: unknown[]) => void)[];
  for (const l of borrowed) stdin.off('keypress', l);
  const wasRaw = stdin.isRaw;
  stdin.setRawMode(true);
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const onData = (chunk: Buffer): void => {
    const at = chunk.indexOf(escapeCode);
    if (at >= 0) {
      if (at > 0) stream.write(chunk.subarray(0, at));
      stop();
      return;
    }
    stream.write(chunk);
  };
  stdin.on('data', onData);
  stdin.resume();
  const pump = (async () => {
    for await (const bytes of stream.output) process.stdout.write(bytes);
  })().finally(stop);
  try {
    await stopped;
  } finally {
    stdin.off('data', onData);
    stdin.setRawMode(wasRaw);
    for (const l of borrowed) stdin.on('keypress', l);
    await stream.close();
    await pump.catch(() => undefined);
  }
}

export const consoleCommand = defineCommand({
  name: 'console',
  group: 'domain',
  summary: 'connect to the guest console',
  description: 'Connect the virtual serial console for the guest',
  options: [
    domainOption(),
    { name: 'devname', kind: 'string', help: 'character device name' },
    { name: 'force', kind: 'bool', help: 'force console connection (disconnect already connected sessions)' },
    { name: 'safe', kind: 'bool', help: 'only connect if safe console handling is supported' },
  ],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    if (!(await dom.isActive())) throw new VirtError(ErrorCode.OPERATION_INVALID, 'The domain is not running', { domain: ErrorDomain.NONE });
    if (!process.stdin.isTTY) {
      throw new VirtError(ErrorCode.OPERATION_INVALID, 'Cannot run interactive console without a controlling TTY', { domain: ErrorDomain.NONE });
    }
    const spec = ctx.escape;
    const escapeCode = escapeByte(spec);
    ctx.info(`Connected to domain '${dom.name}'\nEscape character is ${describeEscape(spec)}\n`);
    const stream = await dom.openConsole(str(args, 'devname'), (flag(args, 'force') ? 1 : 0) | (flag(args, 'safe') ? 2 : 0));
    await join(stream, escapeCode);
    ctx.info('\n');
  },
});
