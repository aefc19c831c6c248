/**
 * virtkitd's listeners: a unix socket (mode 0600 unless asked otherwise), optionally a read-only
 * unix socket, and TCP only when asked and only on a loopback address (virtkitd has no
 * authentication; reach it from other hosts over ssh). Every accepted connection becomes a
 * DaemonClient; the server only counts them and closes them on stop.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ErrorCode, VirtError } from '../errors.js';
import { DaemonClient, DEFAULT_LIMITS, type ClientLimits } from './client.js';
import { HandlerTable } from './dispatch.js';
import { DriverHost, type DriverHostOptions } from './drivers.js';
import { connectHandlers } from './handlers/connect.js';
import { domainHandlers } from './handlers/domain.js';
import { eventHandlers } from './handlers/events.js';
import { type Logger, silentLogger } from './log.js';

export interface ServerOptions {
  /** Read-write unix socket. */
  socket?: string;
  /** Its mode (default 0o600). */
  socketMode?: number;
  /** Read-only unix socket (libvirt's `-ro` socket): every call that changes anything is refused. */
  roSocket?: string;
  roSocketMode?: number;
  /** TCP listener, e.g. `{ host: '127.0.0.1', port: 16509 }`; loopback addresses only. */
  tcp?: { host: string; port: number };
  drivers: DriverHostOptions;
  limits?: Partial<ClientLimits>;
  /** Connections beyond this are closed at once (libvirt's max_clients). */
  maxClients?: number;
  log?: Logger;
}

export function allProcedures(): HandlerTable {
  return new HandlerTable().add(...connectHandlers, ...domainHandlers, ...eventHandlers);
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  return net.isIPv4(host) && host.startsWith('127.');
}

/** Removes a socket file left by a daemon that is gone; refuses when one still answers on it. */
async function clearStaleSocket(file: string): Promise<void> {
  if (!existsSync(file)) return;
  if (!lstatSync(file).isSocket()) throw new VirtError(ErrorCode.OPERATION_FAILED, `${file} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(file);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive) throw new VirtError(ErrorCode.OPERATION_FAILED, `another daemon is listening on ${file}`);
  unlinkSync(file);
}

/** Listens on a unix socket created with no permissions beyond the owner's, then set to `mode`. */
async function listenUnix(server: net.Server, file: string, mode: number): Promise<void> {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  await clearStaleSocket(file);
  const old = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(file, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(old);
  }
  chmodSync(file, mode);
}

export class VirtkitServer {
  readonly #opts: ServerOptions;
  readonly #log: Logger;
  readonly #limits: ClientLimits;
  readonly #host: DriverHost;
  readonly #table = allProcedures();
  readonly #servers: net.Server[] = [];
  readonly #sockets: string[] = [];
  readonly #clients = new Set<DaemonClient>();
  #tcpAddress: net.AddressInfo | undefined;

  private constructor(opts: ServerOptions) {
    this.#opts = opts;
    this.#log = opts.log ?? silentLogger;
    this.#limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.#host = new DriverHost(opts.drivers);
  }

  static async start(opts: ServerOptions): Promise<VirtkitServer> {
    if (!opts.socket && !opts.roSocket && !opts.tcp) throw new VirtError(ErrorCode.INVALID_ARG, 'virtkitd needs at least one socket or TCP address to listen on');
    if (opts.tcp && !isLoopback(opts.tcp.host)) {
      throw new VirtError(
        ErrorCode.INVALID_ARG,
        `refusing to listen on ${opts.tcp.host}: virtkitd's TCP has no authentication, so it listens on loopback addresses only (use qemu+ssh:// to reach it from other hosts)`,
      );
    }
    const s = new VirtkitServer(opts);
    try {
      if (opts.socket) await s.#listenUnix(opts.socket, opts.socketMode ?? 0o600, false);
      if (opts.roSocket) await s.#listenUnix(opts.roSocket, opts.roSocketMode ?? 0o600, true);
      if (opts.tcp) await s.#listenTcp(opts.tcp.host, opts.tcp.port);
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  /** The TCP address actually bound (the port when 0 was asked). */
  get tcpAddress(): net.AddressInfo | undefined {
    return this.#tcpAddress;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  get driverHost(): DriverHost {
    return this.#host;
  }

  #server(peerOf: (s: net.Socket) => string, readOnly: boolean, secure: boolean): net.Server {
    const server = net.createServer((socket) => {
      const max = this.#opts.maxClients ?? 1000;
      if (this.#clients.size >= max) {
        this.#log.error(`refusing connection from ${peerOf(socket)}: ${max} clients already connected`);
        socket.destroy();
        return;
      }
      const client = new DaemonClient(socket, this.#host, this.#table, this.#limits, this.#log, { peer: peerOf(socket), readOnly, secure });
      this.#clients.add(client);
      this.#log.debug(`${client.peer}: connected`);
      void client.done.then(() => {
        this.#clients.delete(client);
        this.#log.debug(`${client.peer}: disconnected`);
      });
    });
    this.#servers.push(server);
    return server;
  }

  async #listenUnix(file: string, mode: number, readOnly: boolean): Promise<void> {
    let n = 0;
    const server = this.#server(() => `unix:${file}#${++n}`, readOnly, true);
    await listenUnix(server, file, mode);
    this.#sockets.push(file);
    this.#log.info(`listening on unix:${file}${readOnly ? ' (read-only)' : ''} mode ${mode.toString(8).padStart(4, '0')}`);
  }

  async #listenTcp(host: string, port: number): Promise<void> {
    const server = this.#server((s) => `tcp:${s.remoteAddress}:${s.remotePort}`, false, false);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: host.replace(/^\[(.*)\]$/, '$1'), port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#tcpAddress = server.address() as net.AddressInfo;
    this.#log.info(`listening on tcp:${this.#tcpAddress.address}:${this.#tcpAddress.port}`);
  }

  /** Stops listening, closes every client (releasing their drivers) and removes the socket files. */
  async stop(): Promise<void> {
    // A server's close callback waits for its connections, so close those first.
    const closed = this.#servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const done = [...this.#clients].map((c) => c.done);
    for (const c of this.#clients) c.close();
    await Promise.all([...done, ...closed]);
    for (const f of this.#sockets) {
      try {
        unlinkSync(f);
      } catch {
        // already gone
      }
    }
    this.#sockets.length = 0;
  }
}
