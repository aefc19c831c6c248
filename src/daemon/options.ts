/** virtkitd's command line and its defaults (socket paths follow libvirt's system/session split). */
import os from 'node:os';
import path from 'node:path';
import type { Level } from './log.js';
import type { ServerOptions } from './server.js';

export const usage = `usage: virtkitd [options]

Serves virtkit's drivers (test:///default, and qemu:///... where available) over libvirt's
remote protocol, for virsh -c 'test+unix:///default?socket=PATH', libvirt-python and virtkit.

  --socket PATH           read-write unix socket (default: /run/virtkit/virtkitd-sock as root,
                          else $XDG_RUNTIME_DIR/virtkit/virtkitd-sock)
  --socket-mode MODE      its permissions, octal (default 0600)
  --ro-socket [PATH]      also a read-only socket (default: the socket path + '-ro');
                          every call that changes anything gets "operation forbidden"
  --ro-socket-mode MODE   its permissions (default 0600)
  --no-socket             no read-write unix socket (e.g. TCP only)
  --listen [ADDR:]PORT    also listen on TCP (ADDR defaults to 127.0.0.1); loopback addresses
                          only, no authentication (libvirt's port is 16509: --listen 16509)
  --default-uri URI       driver for clients that name none (default test:///default)
  --test-state DIR        keep test:///default in DIR instead of in memory (shared by all
                          clients and kept across restarts)
  --qemu-root DIR         keep qemu:///session and qemu:///system state under DIR (qemu:///...?root=DIR)
  --unplug-timeout MS     how long a live detach waits for the guest (5000)
  --max-clients N         connections served at once (default 1000)
  --max-client-requests N calls in progress per client before reading pauses (default 8)
  --keepalive-interval S  ping idle clients that asked for keepalive every S seconds (5; 0: never)
  --keepalive-count N     close a client after N unanswered pings (5)
  -v, --verbose           log connections and drivers opened (twice: everything)
  --version, -h/--help
`;

export interface DaemonArgs {
  server: ServerOptions;
  logLevel: Level;
  help: boolean;
  version: boolean;
}

/** Default socket directory: system-wide for root, per user otherwise (as libvirtd's). */
export function defaultSocket(env: NodeJS.ProcessEnv, uid: number): string {
  if (uid === 0) return '/run/virtkit/virtkitd-sock';
  const runtime = env['XDG_RUNTIME_DIR'] || path.join(os.homedir(), '.cache');
  return path.join(runtime, 'virtkit', 'virtkitd-sock');
}

function mode(v: string, flag: string): number {
  if (!/^0?[0-7]{3}$/.test(v)) throw new Error(`${flag} expects an octal mode like 0600, got '${v}'`);
  return Number.parseInt(v, 8);
}

function int(v: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new Error(`${flag} expects a number from ${min} to ${max}, got '${v}'`);
  return Number(v);
}

/** `ADDR:PORT`, or a bare `PORT` on the loopback address. */
export function parseListen(v: string): { host: string; port: number } {
  if (/^\d+$/.test(v)) return { host: '127.0.0.1', port: int(v, '--listen port', 0, 65535) };
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(v);
  if (!m) throw new Error(`--listen expects [ADDR:]PORT (e.g. 127.0.0.1:16509), got '${v}'`);
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port: int(m[2]!, '--listen port', 0, 65535) };
}

export function parseDaemonArgs(argv: string[], env: NodeJS.ProcessEnv, uid: number): DaemonArgs {
  let socket: string | undefined = defaultSocket(env, uid);
  let socketMode = 0o600;
  let roSocket: string | undefined;
  let wantRo = false;
  let roSocketMode = 0o600;
  let tcp: { host: string; port: number } | undefined;
  let defaultUri = 'test:///default';
  let testStateDir: string | undefined;
  let qemuRoot: string | undefined;
  let unplugTimeoutMs: number | undefined;
  let maxClients = 1000;
  const limits: ServerOptions['limits'] = {};
  let verbosity = 0;
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    switch (a) {
      case '--socket':
        socket = path.resolve(value());
        break;
      case '--socket-mode':
        socketMode = mode(value(), a);
        break;
      case '--no-socket':
        socket = undefined;
        break;
      case '--ro-socket':
        wantRo = true;
        if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) roSocket = path.resolve(value());
        break;
      case '--ro-socket-mode':
        roSocketMode = mode(value(), a);
        break;
      case '--listen':
        tcp = parseListen(value());
        break;
      case '--default-uri':
        defaultUri = value();
        break;
      case '--test-state':
        testStateDir = path.resolve(value());
        break;
      case '--qemu-root':
        qemuRoot = path.resolve(value());
        break;
      case '--unplug-timeout':
        unplugTimeoutMs = int(value(), a, 0, 3_600_000);
        break;
      case '--max-clients':
        maxClients = int(value(), a, 1, 1_000_000);
        break;
      case '--max-client-requests':
        limits.maxInflight = int(value(), a, 1, 10_000);
        break;
      case '--keepalive-interval':
        limits.keepaliveIntervalMs = int(value(), a, 0, 86_400) * 1000;
        break;
      case '--keepalive-count':
        limits.keepaliveCount = int(value(), a, 0, 1000);
        break;
      case '-v':
      case '--verbose':
        verbosity++;
        break;
      case '-vv':
        verbosity += 2;
        break;
      case '-h':
      case '--help':
        help = true;
        break;
      case '--version':
        version = true;
        break;
      default:
        throw new Error(`unknown option '${a}'`);
    }
  }
  if (wantRo && !roSocket) roSocket = `${socket ?? defaultSocket(env, uid)}-ro`;
  return {
    server: {
      socket,
      socketMode,
      roSocket,
      roSocketMode,
      tcp,
      drivers: { defaultUri, testStateDir, qemuRoot, unplugTimeoutMs },
      limits,
      maxClients,
    },
    logLevel: verbosity >= 2 ? 'debug' : verbosity === 1 ? 'info' : 'error',
    help,
    version,
  };
}
