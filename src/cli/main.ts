#!/usr/bin/env node
/**
 * virtkit: virsh's domain and device commands over virtkit's public API.
 * `virtkit [-c URI] [-q] [--debug] [--strict] COMMAND [ARGS]`, `virtkit 'CMD1; CMD2'`,
 * commands on stdin, an interactive prompt on a terminal, or `virtkit --demo`.
 */
import { formatError } from './errors.js';
import { formatGroups } from './format/help.js';
import { type GlobalOptions, parseGlobalOptions } from './global-options.js';
import { COMMANDS } from './registry.js';
import { report, runCommandList, runCommandString } from './run.js';
import { runScript } from './script.js';
import { processOutput, Session } from './session.js';
import { splitArgv } from './split.js';
import { resolveUri } from './uri.js';
import { virtkitVersion } from './version.js';

const version = virtkitVersion;

function longVersion(): string {
  return `virtkit ${version()}, a virsh-compatible command line tool over virtkit's API (libvirt 9.0 semantics)

Drivers: test:///default (in-process test driver); other URIs as registered by installed drivers
`;
}

function usage(): string {
  return `
virtkit [options]... [<command_string>]
virtkit [options]... <command> [args...]

  options:
    -c | --connect=URI      hypervisor connection URI
    -d | --debug=NUM        also print libvirt's error code and domain (any level)
    -e | --escape <char>    set escape sequence for console
    -h | --help             this help
    -k | --keepalive-interval=NUM
                            keepalive interval in seconds (accepted, no effect yet)
    -K | --keepalive-count=NUM
                            number of possible missed keepalive messages (accepted, no effect yet)
    -q | --quiet            quiet mode
    -t | --timing           print timing information
    -v                      short version
    -V                      long version
         --version[=TYPE]   version, TYPE is short or long (default short)
         --strict           exit status 1 when any command failed (virsh: the last command's status)
         --demo             run a short hot-plug demo on test:///default

  URI: -c, else $VIRSH_DEFAULT_CONNECT_URI, else $LIBVIRT_DEFAULT_URI, else uri_default in
  libvirt.conf, else $VIRTKIT_DEFAULT_URI, else test:///default.

  commands (non interactive mode):

${formatGroups(COMMANDS)}  (specify help <group> for details about the commands in the group)

  (specify help <command> for details about the command)

`;
}

/** Runs what the words ask for; resolves to whether it succeeded. */
async function dispatch(g: GlobalOptions, session: Session): Promise<boolean> {
  if (g.demo) {
    const { runDemo } = await import('./demo.js');
    return runDemo(session);
  }
  if (g.rest.length === 1) return runCommandString(session, g.rest[0]!);
  if (g.rest.length > 1) return runCommandList(session, splitArgv(g.rest));
  // virsh ends a session of typed or piped commands with 0 whatever failed in between; --strict does not.
  const ok = process.stdin.isTTY
    ? await (await import('./interactive.js')).runInteractive(session, process.stdin, process.stdout, { banner: !g.quiet })
    : await runScript(session, process.stdin);
  return ok || !session.options.strict;
}

/** Runs one invocation; resolves to the exit status. */
async function main(argv: readonly string[]): Promise<number> {
  let g: GlobalOptions;
  try {
    g = parseGlobalOptions(argv);
  } catch (err) {
    processOutput.stderr(formatError(err, false));
    return 1;
  }
  for (const w of g.warnings) processOutput.stderr(`error: ${w}\n`);
  if (g.help) {
    processOutput.stdout(usage());
    return 0;
  }
  if (g.version) {
    processOutput.stdout(g.version === 'long' ? longVersion() : `${version()}\n`);
    return 0;
  }
  let session: Session;
  try {
    const { uri, source } = await resolveUri(g.uri);
    session = new Session({ uri, quiet: g.quiet, debug: g.debug, strict: g.strict, timing: g.timing, escape: g.escape, output: processOutput });
    // A URI named with -c must work before anything runs; a default one is opened when a command needs it.
    if (source === 'option') await session.connection();
  } catch (err) {
    processOutput.stderr(formatError(err, g.debug));
    return 1;
  }
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
