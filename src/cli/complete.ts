/**
 * Tab completion at the interactive prompt, as virsh's readline completion:
 * command names for the first word, the command's `--options` for a word
 * starting with '-', and for option values domain names, file names or
 * command names, depending on the option the word fills.
 */
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CommandDef, CompleteKind, OptionDef } from './command.js';
import { GROUPS } from './format/help.js';
import { COMMANDS, findCommand } from './registry.js';

/** What completion may ask the session for. */
export interface CompletionSource {
  /** Names of the connection's domains (an empty list when there is no connection). */
  domainNames(): Promise<string[]>;
}

/** The words of the command being typed (after the last ';') and the partial word under the cursor. */
export function currentWords(line: string): { words: string[]; partial: string } {
  const command = line.slice(line.lastIndexOf(';') + 1);
  const parts = command.split(/[ \t]+/);
  const partial = parts.pop() ?? '';
  return { words: parts.filter((w) => w !== ''), partial };
}

function completeKind(o: OptionDef): CompleteKind | undefined {
  if (o.complete) return o.complete;
  if (o.name === 'domain') return 'domain';
  if (o.name === 'file') return 'file';
  return undefined;
}

/** The option whose value the next word is: after `--opt` of a value option, else the next positional slot. */
function valueOption(cmd: CommandDef, words: readonly string[]): OptionDef | undefined {
  const given = new Set<string>();
  let pending: OptionDef | undefined;
  for (const w of words) {
    if (pending) {
      given.add(pending.name);
      pending = undefined;
      continue;
    }
    if (w.startsWith('--')) {
      const name = w.slice(2).split('=')[0]!;
      const def = cmd.options.find((o) => o.name === name);
      if (def && def.kind !== 'bool' && !w.includes('=')) pending = def;
      else if (def) given.add(def.name);
      continue;
    }
    const slot = cmd.options.find((o) => o.kind !== 'bool' && o.positional !== false && (o.kind === 'argv' || !given.has(o.name)));
    if (slot) given.add(slot.name);
  }
  return pending ?? cmd.options.find((o) => o.kind !== 'bool' && o.positional !== false && (o.kind === 'argv' || !given.has(o.name)));
}

async function files(partial: string): Promise<string[]> {
  const dir = partial.endsWith('/') ? partial : dirname(partial);
  const prefix = partial.endsWith('/') ? '' : partial.slice(partial.lastIndexOf('/') + 1);
  try {
    const entries = await readdir(dir === '' ? '.' : dir, { withFileTypes: true });
    const base = partial.slice(0, partial.length - prefix.length);
    return entries
      .filter((e) => e.name.startsWith(prefix) && (prefix.startsWith('.') || !e.name.startsWith('.')))
      .map((e) => (e.isDirectory() ? join(base, e.name) + '/' : base + e.name + ' '))
      .sort();
  } catch {
    return [];
  }
}

async function values(kind: CompleteKind | undefined, partial: string, source: CompletionSource): Promise<string[]> {
  switch (kind) {
    case 'domain':
      return (await source.domainNames()).filter((n) => n.startsWith(partial)).map((n) => n + ' ');
    case 'file':
      return files(partial);
    case 'command':
      return [...COMMANDS.map((c) => c.name), ...GROUPS.map((g) => g.keywords[0]!)].filter((n) => n.startsWith(partial)).map((n) => n + ' ');
    default:
      return [];
  }
}

/** Candidates for the partial word at the end of `line`, and that partial word (node:readline's completer result). */
export async function complete(line: string, source: CompletionSource): Promise<[string[], string]> {
  const { words, partial } = currentWords(line);
  if (words.length === 0) {
    return [COMMANDS.map((c) => c.name).filter((n) => n.startsWith(partial)).sort().map((n) => n + ' '), partial];
  }
  const cmd = findCommand(words[0]!);
  if (!cmd) return [[], partial];
  const rest = words.slice(1);
  if (partial.startsWith('-')) {
    const used = new Set(rest.filter((w) => w.startsWith('--')).map((w) => w.slice(2).split('=')[0]));
    const names = cmd.options.filter((o) => o.kind === 'argv' || !used.has(o.name)).map((o) => `--${o.name}`);
    return [names.filter((n) => n.startsWith(partial)).map((n) => n + ' '), partial];
  }
  const opt = valueOption(cmd, rest);
  return [opt ? await values(completeKind(opt), partial, source) : [], partial];
}
