/**
 * Remote URIs as libvirt's remote driver reads them: `driver[+transport]://[user@][host][:port]/path?params`.
 * The transport and its parameters choose how to reach the daemon; what is left
 * (`driver:///path?other-params`) is the name sent in CONNECT_OPEN.
 *
 * - `+unix` (or no host): a unix socket, `?socket=PATH`, else libvirtd's default for the path
 * - `+tcp`: plain TCP, port 16509 unless given
 * - `+ssh`: the system's `ssh` (an argv array) running, on the far side, `nc -U SOCKET` (netcat mode,
 *   when `socket=` is given or `proxy=netcat`), `virt-ssh-helper URI` (`proxy=native`) or whichever is
 *   there (`proxy=auto`, the default), as libvirt 9 does
 * - `+tls`, `+ext`, `+libssh`, `+libssh2`: not supported
 */
import { ErrorCode, virtError } from '../../errors.js';
import type { ParsedUri } from '../registry.js';

export const LIBVIRT_TCP_PORT = 16509;

/** Parameters the remote driver consumes; everything else goes to the far side's driver. */
const TRANSPORT_PARAMS = new Set([
  'name',
  'command',
  'socket',
  'auth',
  'netcat',
  'keyfile',
  'no_verify',
  'no_tty',
  'pkipath',
  'known_hosts',
  'known_hosts_verify',
  'sshauth',
  'mode',
  'proxy',
  'tls_priority',
]);

export type Transport =
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'ssh'; argv: string[]; description: string };

export interface RemoteTarget {
  transport: Transport;
  /** The name sent in CONNECT_OPEN, e.g. `qemu:///system`. */
  openName: string;
}

/** libvirtd's default socket for a driver path: system daemon as root, session daemon per user. */
export function defaultSocket(path: string, env: NodeJS.ProcessEnv, readOnly = false): string {
  if (path === '/session') {
    const runtime = env['XDG_RUNTIME_DIR'] || `${env['HOME'] ?? ''}/.cache`;
    return `${runtime}/libvirt/libvirt-sock`;
  }
  return readOnly ? '/run/libvirt/libvirt-sock-ro' : '/run/libvirt/libvirt-sock';
}

/** Quotes one word for a POSIX shell (the far side of ssh always runs a shell). */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function checkWord(value: string, what: string, re: RegExp): string {
  if (!re.test(value)) throw virtError(ErrorCode.INVALID_ARG, `invalid ${what} '${value}' in remote URI`);
  return value;
}

/** The command ssh runs on the far side, as libvirt's remote driver builds it. */
export function sshRemoteCommand(proxy: string, netcat: string, socket: string, uri: string): string {
  const nc = `if ${shQuote(netcat)} -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0; else ARG=; fi; ${shQuote(netcat)} $ARG -U ${shQuote(socket)}`;
  const helper = `virt-ssh-helper ${shQuote(uri)}`;
  if (proxy === 'netcat') return `sh -c ${shQuote(nc)}`;
  if (proxy === 'native') return `sh -c ${shQuote(helper)}`;
  return `sh -c ${shQuote(`which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then ${helper}; else ${nc}; fi`)}`;
}

/** Splits a URI the registry routed to the remote driver into how to connect and what to open. */
export function remoteTarget(uri: string, parsed: ParsedUri, env: NodeJS.ProcessEnv = process.env): RemoteTarget {
  const params = parsed.params;
  const transport = parsed.transport ?? (parsed.host ? 'tls' : 'unix');
  const rest = new URLSearchParams();
  for (const [k, v] of params) if (!TRANSPORT_PARAMS.has(k)) rest.append(k, v);
  const q = rest.toString();
  const openName = params.get('name') ?? `${parsed.scheme}://${parsed.path || '/'}${q ? `?${q}` : ''}`;
  const m = /^(?:([^@]*)@)?(\[[^\]]+\]|[^:]*)(?::(\d+))?$/.exec(parsed.host);
  if (!m) throw virtError(ErrorCode.INVALID_ARG, `invalid host '${parsed.host}' in URI '${uri}'`);
  const user = m[1];
  const host = (m[2] ?? '').replace(/^\[(.*)\]$/, '$1');
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) throw virtError(ErrorCode.INVALID_ARG, `invalid port in URI '${uri}'`);
  switch (transport) {
    case 'unix': {
      if (host) throw virtError(ErrorCode.INVALID_ARG, `transport 'unix' takes no host name, got '${host}' in '${uri}'`);
      return { transport: { kind: 'unix', path: params.get('socket') ?? defaultSocket(parsed.path, env) }, openName };
    }
    case 'tcp':
      return { transport: { kind: 'tcp', host: host || 'localhost', port: port ?? LIBVIRT_TCP_PORT }, openName };
    case 'ssh': {
      const hostName = checkWord(host || 'localhost', 'host name', /^[A-Za-z0-9][A-Za-z0-9._:%-]*$/);
      const argv: string[] = [];
      if (port !== undefined) argv.push('-p', String(port));
      if (user) argv.push('-l', checkWord(decodeURIComponent(user), 'user name', /^[A-Za-z0-9._][A-Za-z0-9._-]*$/));
      const keyfile = params.get('keyfile');
      if (keyfile) argv.push('-i', keyfile);
      argv.push('-T', '-e', 'none');
      if (params.get('no_tty') === '1') argv.push('-o', 'BatchMode=yes');
      if (params.get('no_verify') === '1') argv.push('-o', 'StrictHostKeyChecking=no');
      const knownHosts = params.get('known_hosts');
      if (knownHosts) argv.push('-o', `UserKnownHostsFile=${knownHosts}`);
      const socket = params.get('socket');
      const proxy = params.get('proxy') ?? (socket ? 'netcat' : 'auto');
      if (!['auto', 'netcat', 'native'].includes(proxy)) throw virtError(ErrorCode.INVALID_ARG, `unknown proxy '${proxy}' in URI '${uri}': use auto, netcat or native`);
      const netcat = params.get('netcat') ?? 'nc';
      const remote = sshRemoteCommand(proxy, netcat, socket ?? defaultSocket(parsed.path, {}), openName);
      argv.push('--', hostName, remote);
      return { transport: { kind: 'ssh', argv, description: `${user ? `${user}@` : ''}${hostName}` }, openName };
    }
    default:
      throw virtError(ErrorCode.NO_SUPPORT, `transport '${transport}' is not supported by virtkit's remote driver (use unix, tcp or ssh): '${uri}'`);
  }
}
