/**
 * virsh's option parser: `--name`, `--name VALUE`, `--name=VALUE`, value options
 * filled positionally in declaration order, `--` ends options. Error texts are virsh's.
 */
import type { Args, CommandDef, OptionDef } from './command.js';
import { UsageError } from './errors.js';
import { suggest } from './hint.js';

function isOptionWord(word: string): boolean {
  return word.length > 2 && word.startsWith('--');
}

function checkNumber(def: OptionDef, value: string): void {
  if (!/^-?\d+$/.test(value)) {
    throw new UsageError(`Numeric value '${value}' for <${def.name}> option is malformed or out of range`);
  }
}

function setValue(args: Args, def: OptionDef, value: string): void {
  if (def.kind === 'number') checkNumber(def, value);
  if (value === '' && !def.emptyOk) {
    throw new UsageError(`Failed to get option '${def.name}': Option argument is empty`);
  }
  if (args[def.name] !== undefined) throw new UsageError(`option --${def.name} already seen`);
  args[def.name] = value;
}

/** Stores a value: argv options collect every word, others take exactly one. */
function addValue(args: Args, def: OptionDef, value: string): void {
  if (def.kind !== 'argv') {
    setValue(args, def, value);
    return;
  }
  const prev = args[def.name];
  args[def.name] = [...(Array.isArray(prev) ? prev : []), value];
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

/** Parses the words after the command name into option values, checking required and exclusive options. */
export function parseArgs(cmd: CommandDef, words: readonly string[]): Args {
  const args: Args = {};
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
      if (!def) throw unknownOption(cmd, name);
      if (def.kind === 'bool') {
        if (eq >= 0) throw new UsageError(`option --${name} doesn't take an argument`);
        if (args[name] !== undefined) throw new UsageError(`option --${name} already seen`);
        args[name] = true;
        continue;
      }
      const value = eq >= 0 ? word.slice(eq + 1) : words[++i];
      if (value === undefined) throw new UsageError(`expected syntax: --${name} <${def.kind === 'argv' ? 'string' : def.kind}>`);
      addValue(args, def, value);
      continue;
    }
    const slot = cmd.options.find(
      (o) => o.kind !== 'bool' && o.positional !== false && (o.kind === 'argv' || args[o.name] === undefined),
    );
    if (!slot) throw new UsageError(`unexpected data '${word}'`, `see 'virtkit help ${cmd.name}'.`);
    addValue(args, slot, word);
  }
  for (const def of cmd.options) {
    if (def.required && args[def.name] === undefined) {
      throw new UsageError(`command '${cmd.name}' requires <${def.name}> option`, `see 'virtkit help ${cmd.name}'.`);
    }
  }
  for (const [a, b] of cmd.exclusive ?? []) {
    if (args[a] !== undefined && args[b] !== undefined) {
      throw new UsageError(`Options --${a} and --${b} are mutually exclusive`);
    }
  }
  return args;
}
