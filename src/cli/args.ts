/**
 * virsh's option parser: `--name`, `--name VALUE`, `--name=VALUE`, value options
 * filled positionally in declaration order, `--` ends options, `--help` anywhere
 * asks for the command's help. Error texts are virsh's.
 *
 * virsh finds some mistakes while parsing (unknown option, extra data, missing
 * option: the whole command string is refused) and others only when the command
 * runs (exclusive or empty options, malformed numbers: that command fails, the
 * next one still runs). `parseArgs` and `checkArgs` keep that split.
 */
import type { Args, CommandDef, OptionDef } from './command.js';
import { UsageError } from './errors.js';
import { suggest } from './hint.js';

/** The words after a command name, parsed. */
export interface ParsedArgs {
  args: Args;
  /** `--help` was given: print the command's help instead of running it. */
  help: boolean;
}

function isOptionWord(word: string): boolean {
  return word.length > 2 && word.startsWith('--');
}

/** Stores a value: argv options collect every word, others take exactly one. */
function addValue(args: Args, def: OptionDef, value: string): void {
  if (def.kind === 'argv') {
    const prev = args[def.name];
    args[def.name] = [...(Array.isArray(prev) ? prev : []), value];
    return;
  }
  if (args[def.name] !== undefined) throw new UsageError(`option --${def.name} already seen`);
  args[def.name] = value;
}

function unknownOption(cmd: CommandDef, name: string): UsageError {
  const guess = suggest(
    name,
    cmd.options.map((o) => o.name),
  );
  return new UsageError(
    `command '${cmd.name}' doesn't support option --${name}`,
    guess ? `did you mean --${guess}? See 'virtkit help ${cmd.name}'.` : `see 'virtkit help ${cmd.name}'.`,
  );
}

/** The next option a bare word fills: the first value option not given yet (argv options take every word). */
function positionalSlot(cmd: CommandDef, args: Args): OptionDef | undefined {
  return cmd.options.find((o) => o.kind !== 'bool' && o.positional !== false && (o.kind === 'argv' || args[o.name] === undefined));
}

/** Parses the words after the command name; throws a UsageError for what virsh refuses before running anything. */
export function parseArgs(cmd: CommandDef, words: readonly string[]): ParsedArgs {
  const args: Args = {};
  let help = false;
  let dataOnly = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (!dataOnly && word === '--') {
      dataOnly = true;
      continue;
    }
    if (!dataOnly && isOptionWord(word)) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq < 0 ? undefined : eq);
      const def = cmd.options.find((o) => o.name === name);
      if (!def && name !== 'help') throw unknownOption(cmd, name);
      if (!def || def.kind === 'bool') {
        if (eq >= 0) throw new UsageError(`invalid '=' after option --${name}`);
        if (!def) help = true;
        else if (args[name] !== undefined) throw new UsageError(`option --${name} already seen`);
        else args[name] = true;
        continue;
      }
      const value = eq >= 0 ? word.slice(eq + 1) : words[++i];
      if (value === undefined) throw new UsageError(`expected syntax: --${name} <${def.kind === 'argv' ? 'string' : def.kind}>`);
      addValue(args, def, value);
      continue;
    }
    const slot = positionalSlot(cmd, args);
    if (!slot) throw new UsageError(`unexpected data '${word}'`, `see 'virtkit help ${cmd.name}'.`);
    addValue(args, slot, word);
  }
  if (!help) {
    for (const def of cmd.options) {
      if (def.required && args[def.name] === undefined) {
        throw new UsageError(`command '${cmd.name}' requires <${def.name}> option`, `see 'virtkit help ${cmd.name}'.`);
      }
    }
  }
  return { args, help };
}

/** virsh reads number options as unsigned int (the few it reads otherwise check themselves: ownNumberCheck). */
const UINT_MAX = 4294967295;

/** virsh's message for a value that is not a number in range. */
export function badNumber(name: string, value: string): UsageError {
  return new UsageError(`Numeric value '${value}' for <${name}> option is malformed or out of range`);
}

/** The checks virsh makes when a command runs: exclusive options, required companions, empty values, numbers. */
export function checkArgs(cmd: CommandDef, args: Args): void {
  for (const [a, b] of cmd.exclusive ?? []) {
    if (args[a] !== undefined && args[b] !== undefined) throw new UsageError(`Options --${a} and --${b} are mutually exclusive`);
  }
  for (const [opt, needs] of cmd.requires ?? []) {
    if (args[opt] !== undefined && args[needs] === undefined) throw new UsageError(`Option --${needs} is required by option --${opt}`);
  }
  for (const def of cmd.options) {
    const value = args[def.name];
    if (typeof value !== 'string') continue;
    if (def.kind === 'number' && !def.ownNumberCheck && (!/^\s*\+?\d+$/.test(value) || Number(value) > UINT_MAX)) {
      throw badNumber(def.name, value);
    }
    if (value === '' && !def.emptyOk) throw new UsageError(`Failed to get option '${def.name}': Option argument is empty`);
  }
}
