#!/usr/bin/env node
/**
 * virtkit: virsh's domain and device commands over virtkit's public API.
 * `virtkit [-c URI] [-q] [--debug] COMMAND [ARGS]`, `virtkit 'CMD1; CMD2'`,
 * commands on stdin, or `virtkit --demo`.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_URI } from '../api/connection.js';
import { formatError, UsageError } from './errors.js';
import { formatGroups } from './format/help.js';
import { suggest } from './hint.js';
import { COMMANDS } from './registry.js';
import { report, runCommandList, runCommandString } from './run.js';
import { runInteractive, runScript } from './script.js';
import { processOutput, Session } from './session.js';
import { splitArgv } from './split.js';

/** Options before the command, as virsh takes them. */
interface GlobalOptions {
  uri?: string;
  quiet: boolean;
  debug: boolean;
  demo: boolean;
  help: boolean;
  version: boolean;
  /** The command words (or one command string). */
  rest: string[];
}

const GLOBAL_FLAGS = ['--connect', '--quiet', '--debug', '--help', '--version', '--demo'];

/** Parses `-c URI`, `-q`, `-d N`/`--debug`, `-h`, `-v`, `--demo` up to the first non-option word. */
function parseGlobal(argv: readonly string[]): GlobalOptions {
  const g: GlobalOptions = { quiet: false, debug: false, demo: false, help: false, version: false, rest: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a === '-c' || a === '--connect') {
      g.uri = argv[++i];
      if (g.uri === undefined) throw new UsageError(`option '${a}' requires an argument`);
    } else if (a.startsWith('--connect=')) g.uri = a.slice('--connect='.length);
    else if (a === '-q' || a === '--quiet') g.quiet = true;
    else if (a === '--debug' || a.startsWith('--debug=')) g.debug = true;
    else if (a === '-d') {
      g.debug = true;
      // virsh's -d takes a level; accept it but do not require it.
      if (/^\d+$/.test(argv[i + 1] ?? '')) i++;
    } else if (a === '-h' || a === '--help') g.help = true;
    else if (a === '-v' || a === '-V' || a === '--version') g.version = true;
    else if (a === '--demo') g.demo = true;
    else {
      const guess = a.startsWith('--') ? suggest(a, GLOBAL_FLAGS) : undefined;
      throw new UsageError(`unrecognized option '${a}'`, guess ? `did you mean '${guess}'? See 'virtkit --help'.` : "see 'virtkit --help'.");
    }
  }
  g.rest = argv.slice(i);
  return g;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function usage(): string {
  return `virtkit [options]... [<command_string>]
virtkit [options]... <command> [args...]

  options:
    -c | --connect=URI      hypervisor connection URI (default: $VIRTKIT_DEFAULT_URI, else ${DEFAULT_URI})
    -d | --debug            also print libvirt's error code and domain (stack traces for internal errors)
    -h | --help             this help
    -q | --quiet            quiet mode: no table headers, no status messages
    -v | --version          short version
         --demo             run a short hot-plug demo on ${DEFAULT_URI}

  Several commands may be given in one string separated by ';', or on stdin, one or more per line.

  commands (non interactive mode):

${formatGroups(COMMANDS)}  (specify help <group> for details about the commands in the group)

  (specify help <command> for details about the command)

`;
}

async function dispatch(g: GlobalOptions, session: Session): Promise<boolean> {
  if (g.help) {
    session.out(usage());
    return true;
  }
  if (g.version) {
    session.out(`${version()}\n`);
    return true;
  }
  if (g.demo) {
    const { runDemo } = await import('./demo.js');
    return runDemo(session);
  }
  if (g.rest.length === 1) return runCommandString(session, g.rest[0]!);
  if (g.rest.length > 1) return runCommandList(session, splitArgv(g.rest));
  if (process.stdin.isTTY) return runInteractive(session, process.stdin, process.stdout);
  return runScript(session, process.stdin);
}

/** Runs one invocation; resolves to the exit status. */
async function main(argv: readonly string[]): Promise<number> {
  let g: GlobalOptions;
  try {
    g = parseGlobal(argv);
  } catch (err) {
    processOutput.stderr(formatError(err, false));
    return 1;
  }
  const env = process.env['VIRTKIT_DEFAULT_URI'];
  const session = new Session({ uri: g.uri ?? (env || DEFAULT_URI), quiet: g.quiet, debug: g.debug, output: processOutput });
  let ok = false;
  try {
    ok = await dispatch(g, session);
  } catch (err) {
    report(session, err);
  }
  try {
    await session.close();
  } catch (err) {
    report(session, err);
    ok = false;
  }
  return ok ? 0 : 1;
}

// A reader that went away (`virtkit dumpxml x | head`) ends the run quietly, as SIGPIPE ends virsh.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// exitCode, not process.exit(): pending stdout writes to a pipe must flush first.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    processOutput.stderr(formatError(err, true));
    process.exitCode = 1;
  },
);
