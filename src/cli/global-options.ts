/**
 * virsh's global options, parsed the way getopt_long does for virsh: short
 * options may be clustered (`-qt`) and take their value attached or as the next
 * word (`-cURI`, `-c URI`), long options may be abbreviated to any unique prefix
 * (`--conn`) and take `--opt=VALUE` or `--opt VALUE`. The first word that is not
 * an option starts the command.
 */
import { UsageError } from './errors.js';

/** Options before the command, as virsh takes them (plus virtkit's --demo and --strict). */
export interface GlobalOptions {
  uri?: string;
  quiet: boolean;
  debug: boolean;
  timing: boolean;
  strict: boolean;
  demo: boolean;
  help: boolean;
  /** -v/--version[=short] or -V/--version=long. */
  version?: 'short' | 'long';
  /** -e/--escape: console escape character (default ^]). */
  escape?: string;
  /** Warnings to print before running (virsh's "ignoring debug level"). */
  warnings: string[];
  /** The command words (or one command string). */
  rest: string[];
}

type ArgMode = 'none' | 'required' | 'optional';

interface Spec {
  long: string;
  short?: string;
  arg: ArgMode;
  /** Not a virsh option: abbreviations prefer virsh's options. */
  virtkitOnly?: boolean;
  apply(g: GlobalOptions, value: string | undefined, shown: string): void;
}

function numeric(value: string, shown: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`option ${shown} takes a numeric argument`);
  return Number(value);
}

const SPECS: Spec[] = [
  { long: 'connect', short: 'c', arg: 'required', apply: (g, v) => {
    g.uri = v;
  } },
  {
    long: 'debug',
    short: 'd',
    arg: 'required',
    apply: (g, v) => {
      g.debug = true;
      const level = numeric(v!, '-d');
      if (level > 4) g.warnings.push(`ignoring debug level ${level} out of range [0-4]`);
    },
  },
  { long: 'escape', short: 'e', arg: 'required', apply: (g, v) => {
    g.escape = v;
  } },
  { long: 'help', short: 'h', arg: 'none', apply: (g) => {
    g.help = true;
  } },
  // Keepalive only matters to remote connections; the values are checked and otherwise have no effect yet.
  { long: 'keepalive-interval', short: 'k', arg: 'required', apply: (_g, v) => {
      numeric(v!, '-k');
    },
  },
  { long: 'keepalive-count', short: 'K', arg: 'required', apply: (_g, v) => {
      numeric(v!, '-K');
    },
  },
  {
    long: 'log',
    short: 'l',
    arg: 'required',
    apply: () => {
      throw new UsageError('option --log is not supported by virtkit');
    },
  },
  { long: 'quiet', short: 'q', arg: 'none', apply: (g) => {
    g.quiet = true;
  } },
  {
    long: 'readonly',
    short: 'r',
    arg: 'none',
    apply: () => {
      throw new UsageError('option --readonly is not supported by virtkit: connections are read-write');
    },
  },
  { long: 'timing', short: 't', arg: 'none', apply: (g) => {
    g.timing = true;
  } },
  {
    long: 'version',
    arg: 'optional',
    apply: (g, v) => {
      if (v === undefined || v === 'short') g.version = 'short';
      else if (v === 'long') g.version = 'long';
      else throw new UsageError(`unknown version type '${v}'`);
    },
  },
  { long: 'strict', arg: 'none', virtkitOnly: true, apply: (g) => {
    g.strict = true;
  } },
  { long: 'demo', arg: 'none', virtkitOnly: true, apply: (g) => {
    g.demo = true;
  } },
];

const SHORT_ONLY: Record<string, (g: GlobalOptions) => void> = {
  v: (g) => {
    g.version = 'short';
  },
  V: (g) => {
    g.version = 'long';
  },
};

function unsupported(word: string): UsageError {
  return new UsageError(`unsupported option '${word}'. See --help.`);
}

/** The long option a (possibly abbreviated) name means; virsh's own options win over virtkit's additions. */
function findLong(name: string, word: string): Spec {
  const exact = SPECS.find((s) => s.long === name);
  if (exact) return exact;
  for (const pool of [SPECS.filter((s) => !s.virtkitOnly), SPECS.filter((s) => s.virtkitOnly)]) {
    const hits = pool.filter((s) => s.long.startsWith(name));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw unsupported(word);
  }
  throw unsupported(word);
}

function requiresArgument(spec: Spec): UsageError {
  return new UsageError(spec.short ? `option '-${spec.short}'/'--${spec.long}' requires an argument` : `option '--${spec.long}' requires an argument`);
}

/** Parses the global options; throws a UsageError with virsh's wording. */
export function parseGlobalOptions(argv: readonly string[]): GlobalOptions {
  const g: GlobalOptions = { quiet: false, debug: false, timing: false, strict: false, demo: false, help: false, warnings: [], rest: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const spec = findLong(a.slice(2, eq < 0 ? undefined : eq), a);
      let value: string | undefined;
      if (eq >= 0) {
        if (spec.arg === 'none') throw new UsageError(`option '--${spec.long}' doesn't allow an argument`);
        value = a.slice(eq + 1);
      } else if (spec.arg === 'required') {
        value = argv[++i];
        // Compatibility: virtkit has always accepted a bare --debug.
        if (spec.long === 'debug' && !/^\d+$/.test(value ?? '')) {
          i--;
          value = '0';
        }
        if (value === undefined) throw requiresArgument(spec);
      }
      spec.apply(g, value, `--${spec.long}`);
      continue;
    }
    // A cluster of short options: each letter, the first one taking a value takes the rest of the word or the next.
    for (let j = 1; j < a.length; j++) {
      const letter = a[j]!;
      const only = SHORT_ONLY[letter];
      if (only) {
        only(g);
        continue;
      }
      const spec = SPECS.find((s) => s.short === letter);
      if (!spec) throw unsupported(`-${letter}`);
      if (spec.arg === 'none') {
        spec.apply(g, undefined, `-${letter}`);
        continue;
      }
      let value = a.slice(j + 1);
      if (value === '') {
        value = argv[++i] as string;
        if (value === undefined) throw requiresArgument(spec);
      }
      spec.apply(g, value, `-${letter}`);
      break;
    }
  }
  g.rest = argv.slice(i);
  return g;
}
