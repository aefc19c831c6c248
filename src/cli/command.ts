/** The shape of a virtkit command: virsh-style option table plus a handler over the public API. */
import type { Connection } from '../api/connection.js';
import type { Domain } from '../api/domain.js';

/** bool = `--flag`; string/number take a value (`--opt V`, `--opt=V`, or positionally); argv takes every remaining word. */
export type OptionKind = 'bool' | 'string' | 'number' | 'argv';

/** What tab completion offers for an option's value. */
export type CompleteKind = 'domain' | 'file' | 'command';

/** One option of a command, as `virsh help CMD` lists it. */
export interface OptionDef {
  name: string;
  kind: OptionKind;
  help: string;
  /** Must be given (by name or position). */
  required?: boolean;
  /** Value options are filled from bare words in declaration order unless this is false. */
  positional?: boolean;
  /** An empty string is an acceptable value. */
  emptyOk?: boolean;
  /** A number the command checks itself (scaled sizes like 1G, or checked after other options). */
  ownNumberCheck?: boolean;
  /** Tab completion of the value (default: `domain` for an option named domain, `file` for file). */
  complete?: CompleteKind;
}

/** Parsed option values: booleans for flags, strings for values (numbers are validated, kept as text), arrays for argv. */
export type Args = Record<string, string | boolean | string[] | undefined>;

/** virsh's help groups. */
export type CommandGroup = 'domain' | 'monitor' | 'events' | 'host' | 'network' | 'pool' | 'volume' | 'virsh';

/** Which ways of naming a domain a command accepts (virsh's VIRSH_BYID/BYUUID/BYNAME). */
export interface LookupBy {
  id?: boolean;
  uuid?: boolean;
  name?: boolean;
}

/** What a command handler may use: the lazily opened connection, output, and virsh-style helpers. */
export interface CliContext {
  /** The connection, opened on first use. */
  connection(): Promise<Connection>;
  /** Resolves a domain by id, UUID or name (or only the ways `by` allows); "failed to get domain 'X'" otherwise. */
  domain(nameIdOrUuid: string, by?: LookupBy): Promise<Domain>;
  /** Reads a file given on the command line (XML, editor output); virsh's "Failed to open file" message otherwise. */
  readFile(path: string): Promise<string>;
  /** Writes to stdout. */
  out(text: string): void;
  /** Writes a virsh "extra" message (suppressed by --quiet). */
  info(text: string): void;
  /** Writes a note to stderr (not an error: the command still succeeds). */
  note(text: string): void;
  readonly quiet: boolean;
  /** Commands come from a terminal prompt (cd is allowed only there). */
  readonly interactive: boolean;
  /** The console escape sequence (-e/--escape; `^]` by default). */
  readonly escape: string;
  /** Replaces the connection (virsh's `connect`); the old one stays when the new one fails. */
  reconnect(uri: string | undefined): Promise<void>;
  /** Stops reading further commands (quit/exit). */
  quit(): void;
}

/**
 * A command: its virsh name, help texts, options and handler. The handler
 * returns (or resolves to) false to fail without a message (virsh's `event`
 * timing out with nothing received).
 */
export interface CommandDef {
  name: string;
  group: CommandGroup;
  /** One line for `help`. */
  summary: string;
  /** DESCRIPTION paragraph for `help COMMAND` (omitted when empty). */
  description: string;
  options: OptionDef[];
  /** Pairs of options that may not be combined (virsh: "Options --a and --b are mutually exclusive"). */
  exclusive?: [string, string][];
  /** [option, needs]: giving the first without the second fails ("Option --needs is required by option --option"). */
  requires?: [string, string][];
  /** Runs without a connection (help, echo, connect, ...). */
  noConnect?: boolean;
  run(ctx: CliContext, args: Args): Promise<unknown>;
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
