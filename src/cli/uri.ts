/**
 * Which URI a virtkit invocation connects to, in libvirt's order:
 *
 *   1. `-c URI` / `--connect URI` (checked at start-up: a bad one runs nothing)
 *   2. `$VIRSH_DEFAULT_CONNECT_URI`
 *   3. `$LIBVIRT_DEFAULT_URI`
 *   4. `uri_default` in libvirt.conf (`$XDG_CONFIG_HOME/libvirt/libvirt.conf`, or
 *      `/etc/libvirt/libvirt.conf` for root)
 *   5. `$VIRTKIT_DEFAULT_URI` — virtkit's own default, below every libvirt setting so
 *      a virsh user's environment means the same thing to virtkit
 *   6. `test:///default`
 *
 * A name listed in libvirt.conf's `uri_aliases` ("name=URI") is replaced by its URI,
 * whichever step it came from. The URI itself is passed on to Connection.open as is.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_URI } from '../api/connection.js';
import { VirtError } from '../errors.js';
import { readBounded } from './read-input.js';

/** libvirt's VIR_ERR_CONF_SYNTAX. */
const CONF_SYNTAX = 33;
/** libvirt.conf is tiny; a larger one is not a libvirt client config. */
const MAX_CONF = 1024 * 1024;

/** Where the URI came from, for `--debug` and tests. */
export type UriSource =
  | 'option'
  | 'VIRSH_DEFAULT_CONNECT_URI'
  | 'LIBVIRT_DEFAULT_URI'
  | 'uri_default'
  | 'VIRTKIT_DEFAULT_URI'
  | 'builtin';

export interface ResolvedUri {
  uri: string;
  source: UriSource;
}

/** What URI resolution looks at; tests pass their own. */
export interface UriEnvironment {
  env: NodeJS.ProcessEnv;
  /** Effective uid: root reads /etc/libvirt/libvirt.conf. */
  uid: number;
  home: string;
}

export function processUriEnvironment(): UriEnvironment {
  return { env: process.env, uid: process.geteuid?.() ?? -1, home: homedir() };
}

/** libvirt's client config file for this user. */
export function libvirtConfPath(e: UriEnvironment): string {
  if (e.uid === 0) return '/etc/libvirt/libvirt.conf';
  const xdg = e.env['XDG_CONFIG_HOME'];
  return join(xdg ? xdg : join(e.home, '.config'), 'libvirt', 'libvirt.conf');
}

type ConfValue = string | number | ConfValue[];

function confError(file: string, line: number, what: string): VirtError {
  return new VirtError(CONF_SYNTAX, `configuration file syntax error: ${file}:${line}: ${what}`);
}

/** Parses libvirt's conf syntax (`name = "str" | 'str' | 123 | [ v, ... ]`, `#` comments). */
export function parseLibvirtConf(text: string, file = 'libvirt.conf'): Map<string, ConfValue> {
  const out = new Map<string, ConfValue>();
  let i = 0;
  let line = 1;
  const skip = (): void => {
    while (i < text.length) {
      const c = text[i]!;
      if (c === '#') while (i < text.length && text[i] !== '\n') i++;
      else if (c === '\n') {
        line++;
        i++;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === ';') i++;
      else break;
    }
  };
  const value = (depth: number): ConfValue => {
    skip();
    const c = text[i];
    if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) throw confError(file, line, 'unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (c === '[') {
      if (depth > 0) throw confError(file, line, 'nested lists are not supported');
      i++;
      const list: ConfValue[] = [];
      for (;;) {
        skip();
        if (text[i] === ']') {
          i++;
          return list;
        }
        list.push(value(depth + 1));
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== ']') throw confError(file, line, 'expecting a separator in list');
      }
    }
    const m = /^[-+]?\d+/.exec(text.slice(i, i + 32));
    if (!m) throw confError(file, line, 'expecting a value');
    i += m[0].length;
    return Number(m[0]);
  };
  for (;;) {
    skip();
    if (i >= text.length) return out;
    const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i, i + 256));
    if (!m) throw confError(file, line, 'expecting a name');
    i += m[0].length;
    skip();
    if (text[i] !== '=') throw confError(file, line, "expecting an assignment");
    i++;
    out.set(m[0], value(0));
  }
}

/** The URI an alias name stands for, or the name itself. */
export function resolveAlias(name: string, aliases: ConfValue | undefined): string {
  if (!Array.isArray(aliases)) return name;
  for (const entry of aliases) {
    if (typeof entry !== 'string') continue;
    const eq = entry.indexOf('=');
    if (eq < 0) throw new VirtError(CONF_SYNTAX, `Malformed 'uri_aliases' config entry '${entry}', expected 'alias=uri://host/path'`);
    const alias = entry.slice(0, eq);
    if (!/^[A-Za-z0-9_-]+$/.test(alias)) {
      throw new VirtError(CONF_SYNTAX, `Malformed 'uri_aliases' config entry '${entry}', aliases may only contain 'a-Z, 0-9, _, -'`);
    }
    if (alias === name) return entry.slice(eq + 1);
  }
  return name;
}

async function loadConf(e: UriEnvironment): Promise<Map<string, ConfValue>> {
  const path = libvirtConfPath(e);
  let bytes: Uint8Array;
  try {
    bytes = await readBounded(path, MAX_CONF);
  } catch (err) {
    if ((err as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') return new Map();
    throw err;
  }
  return parseLibvirtConf(new TextDecoder().decode(bytes), path);
}

/** The URI to connect to; `option` is the -c/--connect value, if any. */
export async function resolveUri(option: string | undefined, e: UriEnvironment = processUriEnvironment()): Promise<ResolvedUri> {
  const nonEmpty = (name: string): string | undefined => e.env[name] || undefined;
  let found: ResolvedUri | undefined;
  if (option !== undefined) found = { uri: option, source: 'option' };
  else {
    for (const name of ['VIRSH_DEFAULT_CONNECT_URI', 'LIBVIRT_DEFAULT_URI'] as const) {
      const v = nonEmpty(name);
      if (v) {
        found = { uri: v, source: name };
        break;
      }
    }
  }
  // Only a word without ':' can be an alias; a full URI needs no config file read.
  if (found?.uri.includes(':')) return found;
  const conf = await loadConf(e);
  if (!found) {
    const def = conf.get('uri_default');
    if (typeof def === 'string' && def !== '') found = { uri: def, source: 'uri_default' };
  }
  if (!found) {
    const v = nonEmpty('VIRTKIT_DEFAULT_URI');
    found = v ? { uri: v, source: 'VIRTKIT_DEFAULT_URI' } : { uri: DEFAULT_URI, source: 'builtin' };
  }
  return { uri: resolveAlias(found.uri, conf.get('uri_aliases')), source: found.source };
}
