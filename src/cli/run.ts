/**
 * Turns words into commands and runs them like virsh: a whole command string is
 * parsed before anything runs, each command is followed by a blank line (unless
 * --quiet), a failing command is reported and does not stop the next one, and the
 * string's status is the last command's (any failure with --strict).
 */
import { checkArgs, parseArgs } from './args.js';
import type { Args, CommandDef } from './command.js';
import { formatError, UsageError } from './errors.js';
import { formatCommandHelp } from './format/help.js';
import { suggest } from './hint.js';
import { COMMANDS, findCommand } from './registry.js';
import type { Session } from './session.js';
import { splitCommands } from './split.js';

/** A command resolved and its options parsed, ready to run. */
export interface PreparedCommand {
  def: CommandDef;
  args: Args;
  /** `CMD --help`: print the help page instead of running. */
  help: boolean;
  /** The words as typed, for echoing (demo). */
  words: readonly string[];
}


/** Resolves the command name and parses its options; unknown names get a "did you mean" hint. */
export function prepare(words: readonly string[]): PreparedCommand {
  const [name, ...rest] = words;
  const def = findCommand(name ?? '');
  if (!def) {
    const guess = suggest(
      name ?? '',
      COMMANDS.map((c) => c.name),
    );
    throw new UsageError(
      `unknown command: '${name}'`,
      guess ? `did you mean '${guess}'? Run 'virtkit help' for the list of commands.` : "run 'virtkit help' for the list of commands.",
    );
  }
  const { args, help } = parseArgs(def, rest);
  return { def, args, help, words };
}

/** Prints an error the virsh way on stderr. */
export function report(session: Session, err: unknown): void {
  session.options.output.stderr(formatError(err, session.options.debug));
}

async function execute(session: Session, cmd: PreparedCommand): Promise<boolean> {
  if (cmd.help) {
    session.out(formatCommandHelp(cmd.def));
    return true;
  }
  if (!cmd.def.noConnect) await session.connection();
  checkArgs(cmd.def, cmd.args);
  return (await cmd.def.run(session, cmd.args)) !== false;
}

/** Runs one prepared command; returns false when it failed (the error is already reported). */
export async function runPrepared(session: Session, cmd: PreparedCommand): Promise<boolean> {
  const started = performance.now();
  let ok: boolean;
  try {
    ok = await execute(session, cmd);
  } catch (err) {
    report(session, err);
    ok = false;
  }
  if (session.quitting) return ok;
  if (session.options.timing) session.out(`\n(Time: ${(performance.now() - started).toFixed(3)} ms)\n\n`);
  else session.info('\n');
  return ok;
}

/**
 * Runs a list of commands (already split into words). Every command is parsed
 * first: one unknown name or option refuses the whole list before anything runs,
 * as in virsh. The result is the last command's (every command's with --strict).
 */
export async function runCommandList(session: Session, commands: readonly (readonly string[])[]): Promise<boolean> {
  let prepared: PreparedCommand[];
  try {
    prepared = commands.map(prepare);
  } catch (err) {
    report(session, err);
    return false;
  }
  let last = true;
  let all = true;
  for (const cmd of prepared) {
    if (session.quitting) break;
    last = await runPrepared(session, cmd);
    all &&= last;
  }
  return session.options.strict ? all : last;
}

/** Tokenizes and runs a command string (`list --all; dominfo 1`). */
export async function runCommandString(session: Session, text: string): Promise<boolean> {
  let commands: string[][];
  try {
    commands = splitCommands(text);
  } catch (err) {
    report(session, err);
    return false;
  }
  return runCommandList(session, commands);
}
