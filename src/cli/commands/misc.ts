/** virsh's built-ins: `echo`, `quit`/`exit`, `uri`, `connect`, `cd`, `pwd`. */
import { homedir } from 'node:os';
import { ErrorCode, ErrorDomain, VirtError } from '../../errors.js';
import { defineCommand, flag, str, words } from '../command.js';
import { UsageError } from '../errors.js';
import { LIBVIRT_API_VERSION, unpackVersion, virtkitVersion } from '../version.js';

/** Splits at ',' with ',,' standing for a literal comma (virsh's --split); an empty word has no pieces. */
function splitCommas(arg: string): string[] {
  if (arg === '') return [];
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < arg.length; i++) {
    if (arg[i] !== ',') cur += arg[i];
    else if (arg[i + 1] === ',') {
      cur += ',';
      i++;
    } else {
      out.push(cur);
      cur = '';
    }
  }
  out.push(cur);
  return out;
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '"': '&quot;' };

/** Quotes a word for a POSIX shell unless it only has characters a shell leaves alone. */
function shellQuote(word: string): string {
  if (word !== '' && !/[^A-Za-z0-9%+,\-./:=@_\u0080-\uffff]/.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

export const echo = defineCommand({
  name: 'echo',
  group: 'virsh',
  summary: 'echo arguments',
  description: 'Echo back arguments, possibly with quoting (handy in scripts).',
  noConnect: true,
  options: [
    { name: 'shell', kind: 'bool', help: 'escape for shell use' },
    { name: 'xml', kind: 'bool', help: 'escape for XML use' },
    { name: 'split', kind: 'bool', help: "split each argument on ','; ',,' is an escape sequence" },
    { name: 'err', kind: 'bool', help: 'output to stderr' },
    { name: 'string', kind: 'argv', help: 'arguments to echo' },
  ],
  exclusive: [
    ['shell', 'xml'],
    ['shell', 'split'],
    ['xml', 'split'],
  ],
  async run(ctx, args) {
    const quoteWord = (w: string): string => (flag(args, 'xml') ? w.replace(/[&<>'"]/g, (c) => XML_ESCAPES[c]!) : flag(args, 'shell') ? shellQuote(w) : w);
    // With --split every piece ends its own line.
    const text = words(args, 'string')
      .map((arg) => (flag(args, 'split') ? splitCommas(arg).map((p) => quoteWord(p) + '\n').join('') : quoteWord(arg)))
      .join(' ');
    // virsh: --err prints the words as an error line on stderr; the command still succeeds.
    // Otherwise no newline of its own: the line ends with the blank line every command gets (none with -q, as in virsh).
    if (flag(args, 'err')) ctx.note(`error: ${text}\n`);
    else ctx.out(text);
  },
});

function quitCommand(name: string): ReturnType<typeof defineCommand> {
  return defineCommand({
    name,
    group: 'virsh',
    summary: 'quit this interactive terminal',
    description: '',
    noConnect: true,
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
  description: '',
  options: [],
  async run(ctx) {
    ctx.out(`${(await ctx.connection()).getURI()}\n`);
  },
});

export const connect = defineCommand({
  name: 'connect',
  group: 'virsh',
  summary: '(re)connect to hypervisor',
  description: 'Connect to a hypervisor URI, or reconnect to the current one; the old connection stays when it fails.',
  noConnect: true,
  options: [
    { name: 'name', kind: 'string', emptyOk: true, help: 'hypervisor connection URI' },
    { name: 'readonly', kind: 'bool', help: 'read-only connection (not supported by virtkit)' },
  ],
  async run(ctx, args) {
    if (flag(args, 'readonly')) {
      throw new VirtError(ErrorCode.NO_SUPPORT, 'read-only connections are not supported by virtkit', { domain: ErrorDomain.NONE });
    }
    await ctx.reconnect(str(args, 'name'));
  },
});

export const cd = defineCommand({
  name: 'cd',
  group: 'virsh',
  summary: 'change the current directory',
  description: 'Change the current directory.',
  noConnect: true,
  options: [{ name: 'dir', kind: 'string', help: 'directory to switch to (default: home or else root)' }],
  async run(ctx, args) {
    if (!ctx.interactive) throw new UsageError('cd: command valid only in interactive mode');
    const dir = str(args, 'dir') ?? (homedir() || '/');
    try {
      process.chdir(dir);
    } catch {
      throw new VirtError(ErrorCode.SYSTEM_ERROR, `cd: No such file or directory: ${dir}`, { domain: ErrorDomain.NONE });
    }
  },
});

export const pwd = defineCommand({
  name: 'pwd',
  group: 'virsh',
  summary: 'print the current directory',
  description: 'Print the current directory.',
  noConnect: true,
  options: [],
  async run(ctx) {
    ctx.out(`${process.cwd()}\n`);
  },
});

export const version = defineCommand({
  name: 'version',
  group: 'host',
  summary: 'show version',
  description: 'Display the system version information.',
  options: [],
  async run(ctx) {
    const conn = await ctx.connection();
    const type = conn.getType();
    const hv = await conn.getVersion();
    const lib = virtkitVersion();
    ctx.out(
      `Compiled against library: virtkit ${lib}\nUsing library: virtkit ${lib}\nUsing API: ${type} ${LIBVIRT_API_VERSION}\nRunning hypervisor: ${type} ${unpackVersion(hv)}\n`,
    );
  },
});

export const hostname = defineCommand({
  name: 'hostname',
  group: 'host',
  summary: 'print the hypervisor hostname',
  description: '',
  options: [],
  async run(ctx) {
    ctx.out(`${await (await ctx.connection()).getHostname()}\n`);
  },
});
