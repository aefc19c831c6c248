/**
 * Turns words into commands and runs them like virsh: a whole command string is
 * checked before anything runs, each command is followed by a blank line (unless
 * --quiet), and a failing command is reported and does not stop the next one.
 */
import { parseArgs } from './args.js';
import type { Args, CommandDef } from './command.js';
import { formatError, UsageError } from './errors.js';
import { suggest } from './hint.js';
import { COMMANDS, findCommand } from './registry.js';
import type { Session } from './session.js';
import { splitCommands } from './split.js';

/** A command resolved and its options parsed, ready to run. */
export interface PreparedCommand {
  def: CommandDef;
  args: Args;
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
  return { def, args: parseArgs(def, rest), words };
}

/** Prints an error the virsh way on stderr. */
export function report(session: Session, err: unknown): void {
  session.options.output.stderr(formatError(err, session.options.debug));
}

/** Runs one prepared command; returns false when it failed (the error is already reported). */
export async function runPrepared(session: Session, cmd: PreparedCommand): Promise<boolean> {
  let ok = true;
  try {
    await cmd.def.run(session, cmd.args);
  } catch (err) {
    report(session, err);
    ok = false;
  }
  if (!session.quitting) session.info('\n');
  return ok;
}

/**
 * Runs a list of commands (already split into words). Every command is prepared
 * first: one bad name or option aborts the whole list before anything runs, as in virsh.
 */
export async function runCommandList(session: Session, commands: readonly (readonly string[])[]): Promise<boolean> {
  let prepared: PreparedCommand[];
  try {
    prepared = commands.map(prepare);
  } catch (err) {
    report(session, err);
    return false;
  }
  let ok = true;
  for (const cmd of prepared) {
    if (session.quitting) break;
    ok = (await runPrepared(session, cmd)) && ok;
  }
  return ok;
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
