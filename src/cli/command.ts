/** The shape of a virtkit command: virsh-style option table plus a handler over the public API. */
import type { Connection } from '../api/connection.js';
import type { Domain } from '../api/domain.js';

/** bool = `--flag`; string/number take a value (`--opt V`, `--opt=V`, or positionally); argv takes every remaining word. */
export type OptionKind = 'bool' | 'string' | 'number' | 'argv';

/** One option of a command, as `virsh help CMD` lists it. */
export interface OptionDef {
  name: string;
  kind: OptionKind;
  help: string;
  /** Must be given (by name or position). */
  required?: boolean;
  /** Value options are filled from bare words in declaration order unless this is false (virsh does the same). */
  positional?: boolean;
  /** An empty string is an acceptable value. */
  emptyOk?: boolean;
}

/** Parsed option values: booleans for flags, strings for values (numbers are validated, kept as text), arrays for argv. */
export type Args = Record<string, string | boolean | string[] | undefined>;

/** virsh's help groups. */
export type CommandGroup = 'domain' | 'monitor' | 'events' | 'host' | 'virsh';

/** What a command handler may use: the lazily opened connection, output, and virsh-style helpers. */
export interface CliContext {
  /** The connection, opened on first use. */
  connection(): Promise<Connection>;
  /** Resolves a domain by id, UUID or name; "failed to get domain 'X'" otherwise. */
  domain(nameIdOrUuid: string): Promise<Domain>;
  /** Reads an XML file; virsh's "Failed to open file" message otherwise. */
  readFile(path: string): Promise<string>;
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes a virsh "extra" message (suppressed by --quiet). */
  info(text: string): void;
  readonly quiet: boolean;
  /** Stops reading further commands (quit/exit). */
  quit(): void;
}

/** A command: its virsh name, help texts, options and handler. */
export interface CommandDef {
  name: string;
  group: CommandGroup;
  /** One line for `help`. */
  summary: string;
  /** DESCRIPTION paragraph for `help COMMAND`. */
  description: string;
  options: OptionDef[];
  /** Pairs of options that may not be combined (virsh: "Options --a and --b are mutually exclusive"). */
  exclusive?: [string, string][];
  run(ctx: CliContext, args: Args): Promise<void>;
}

/** Helper to type command definitions. */
export function defineCommand(def: CommandDef): CommandDef {
  return def;
}

/** A string option's value (undefined when absent). */
export function str(args: Args, name: string): string | undefined {
  const v = args[name];
  return typeof v === 'string' ? v : undefined;
}

/** A bool option's value. */
export function flag(args: Args, name: string): boolean {
  return args[name] === true;
}

/** An argv option's words. */
export function words(args: Args, name: string): string[] {
  const v = args[name];
  return Array.isArray(v) ? v : [];
}
