/** Opens the byte stream to a daemon: a unix socket, TCP, or the stdio of the system's `ssh`. */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { ErrorCode, VirtError } from '../../errors.js';
import { VIR_FROM_RPC } from '../../rpc/wire.js';
import type { Transport } from './uri.js';

export interface Stream {
  duplex: Duplex;
  /** Stops the transport (kills ssh). */
  destroy(): void;
  /** What ssh printed on stderr, for error messages. */
  stderr(): string;
}

const errnoText: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  EACCES: 'Permission denied',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENOTFOUND: 'Name or service not known',
};

function connectError(t: Transport, err: NodeJS.ErrnoException): VirtError {
  const why = errnoText[err.code ?? ''] ?? err.message;
  const msg = t.kind === 'unix' ? `Failed to connect socket to '${t.path}': ${why}` : t.kind === 'tcp' ? `unable to connect to server at '${t.host}:${t.port}': ${why}` : `cannot run ssh: ${why}`;
  return new VirtError(ErrorCode.SYSTEM_ERROR, msg, { domain: VIR_FROM_RPC, cause: err });
}

export function openTransport(t: Transport, timeoutMs = 30_000): Promise<Stream> {
  if (t.kind === 'ssh') {
    const child = spawn('ssh', t.argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 8192) stderr += d;
    });
    return new Promise((resolve, reject) => {
      child.once('error', (err) => reject(connectError(t, err)));
      child.once('spawn', () => {
        const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
        child.once('exit', () => duplex.destroy());
        resolve({ duplex, destroy: () => child.kill('SIGTERM'), stderr: () => stderr.trim() });
      });
    });
  }
  return new Promise((resolve, reject) => {
    const socket = t.kind === 'unix' ? net.connect(t.path) : net.connect({ host: t.host, port: t.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(connectError(t, Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(connectError(t, err));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve({ duplex: socket, destroy: () => socket.destroy(), stderr: () => '' });
    });
  });
}
