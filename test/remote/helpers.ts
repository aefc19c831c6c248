/**
 * Shared pieces of the remote-protocol tests: real peers (virsh, libvirtd, python3-libvirt) found or
 * reported missing (a failure under CI, a skip with the reason elsewhere), virtkitd started in a
 * private temp folder (in-process or as the built binary), a private libvirtd, and a raw RPC client.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/daemon/log.js';
import { type ServerOptions, VirtkitServer } from '../../src/daemon/server.js';
import type { Codec } from '../../src/rpc/codec.js';
import { KEEPALIVE_PROGRAM } from '../../src/rpc/generated/keepalive-protocol.js';
import { decRemoteError, type RemoteError } from '../../src/rpc/generated/remote-protocol.js';
import { decodeFrame, encodeFrame, type Frame, FrameReader, type Header } from '../../src/rpc/message.js';
import { LIBVIRTD, PYTHON, type RunResult, run, tempDir, VIRSH } from './peers.js';

export * from './peers.js';

/** Why a peer is unusable here, or undefined when it is fine. */
export function missingPeers(which: ('virsh' | 'libvirtd' | 'python3-libvirt' | 'sshd')[]): string | undefined {
  const missing: string[] = [];
  if (which.includes('sshd')) {
    if (!existsSync('/usr/sbin/sshd')) missing.push('sshd (apt-get install openssh-server)');
    if (spawnSync('ssh', ['-V']).error) missing.push('ssh (apt-get install openssh-client)');
    if (spawnSync('sh', ['-c', 'command -v nc']).status !== 0) missing.push('nc (apt-get install netcat-openbsd)');
  }
  if (which.includes('virsh') && !existsSync(VIRSH)) missing.push('virsh (apt-get install libvirt-clients)');
  if (which.includes('libvirtd') && !existsSync(LIBVIRTD)) missing.push('libvirtd (apt-get install libvirt-daemon)');
  if (which.includes('python3-libvirt')) {
    const r = spawnSync(PYTHON, ['-c', 'import libvirt'], { encoding: 'utf8' });
    if (r.status !== 0) missing.push('python3-libvirt (apt-get install python3-libvirt; /usr/bin/python3)');
  }
  return missing.length ? `missing: ${missing.join(', ')}` : undefined;
}

/** Registers `name` as a failure under CI (a missing peer is a defect there), or as skipped elsewhere. */
export function unavailable(name: string, reason: string): void {
  if (process.env['CI']) {
    test(name, () => {
      throw new Error(`required peer unavailable under CI: ${reason}`);
    });
    return;
  }
  console.log(`${name}: skipped: ${reason}`);
  test(name, { skip: reason }, () => {});
}

export interface InProcessDaemon {
  server: VirtkitServer;
  socket: string;
  roSocket: string;
  dir: string;
  stop(): Promise<void>;
}

/** virtkitd inside the test process, on sockets in a private folder. */
export async function startInProcess(opts: Partial<ServerOptions> = {}): Promise<InProcessDaemon> {
  const { dir, cleanup } = tempDir();
  const socket = join(dir, 'sock');
  const roSocket = join(dir, 'sock-ro');
  const server = await VirtkitServer.start({ socket, roSocket, drivers: { defaultUri: 'test:///default' }, log: silentLogger, ...opts });
  return {
    server,
    socket,
    roSocket,
    dir,
    stop: async () => {
      await server.stop();
      cleanup();
    },
  };
}

/** `virsh -c URI 'CMD1; CMD2; ...'`: one virsh session running the commands in order. */
export function virsh(uri: string, commands: string, extra: string[] = []): Promise<RunResult> {
  return run(VIRSH, [...extra, '-c', uri, commands], '', 60_000, { ...process.env, LC_ALL: 'C', VIRSH_DEFAULT_CONNECT_URI: '' });
}

/** A bare RPC connection for protocol tests: send frames, read frames, see the close. */
export class RawClient {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  closed = false;
  answerPings = true;
  #waiters: (() => void)[] = [];
  #reader = new FrameReader();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      for (const f of this.#reader.push(d)) {
        const frame = decodeFrame(f);
        // Like every real client, answer the daemon's keepalive pings unless a test wants silence.
        if (this.answerPings && frame.header.prog === KEEPALIVE_PROGRAM && frame.header.proc === 1) {
          this.socket.write(encodeFrame({ ...frame.header, proc: 2 }, { encode() {}, decode() {} }, undefined));
        }
        this.frames.push(frame);
      }
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(path);
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  send<T>(header: Partial<Header> & { proc: number }, codec: Codec<T>, body: T): void {
    this.socket.write(encodeFrame({ prog: 0x20008086, vers: 1, type: 0, serial: 1, status: 0, ...header }, codec, body));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Waits until `pred` holds for the frames received so far (or the socket closes). */
  async until(pred: (frames: Frame[]) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.frames)) {
      if (this.closed) throw new Error('connection closed while waiting');
      if (Date.now() > deadline) throw new Error('timed out waiting for frames');
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** The reply to `serial`, waiting for it. */
  async reply(serial: number): Promise<Frame> {
    await this.until((fs) => fs.some((f) => f.header.type === 1 && f.header.serial === serial));
    return this.frames.find((f) => f.header.type === 1 && f.header.serial === serial)!;
  }

  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The error carried by an error reply. */
export function errorOf(f: Frame): RemoteError {
  if (f.header.status !== 1) throw new Error(`not an error reply: status ${f.header.status}`);
  return decRemoteError(f.payload);
}

export function readFixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)), 'utf8');
}

export interface Step {
  cmd: string;
  out: string;
  err: string;
}

/**
 * Runs `cmds` in ONE virsh session and returns each command's stdout and stderr, cut apart by
 * markers that virsh's own `echo` (and `echo --err`) print between the commands.
 */
export async function virshSteps(uri: string, cmds: string[], extra: string[] = []): Promise<Step[]> {
  const script = cmds.map((c, i) => `echo @@${i}@@; echo --err @@${i}@@; ${c}`).join('; ');
  const r = await virsh(uri, script, extra);
  // virsh ends each command's output with a blank line and prefixes stderr lines with "error: ".
  const cut = (text: string, marker: RegExp): string[] => {
    const parts = text.split(marker);
    parts.shift();
    return parts.map((p) => p.replace(/^\n/, '').replace(/\n+$/, ''));
  };
  const outs = cut(r.stdout, /^@@\d+@@\n/m);
  const errs = cut(r.stderr, /^error: @@\d+@@\n/m);
  if (outs.length !== cmds.length) throw new Error(`virsh session ended early: ${r.stdout}\n${r.stderr}`);
  return cmds.map((cmd, i) => ({ cmd, out: outs[i]!, err: errs[i] ?? '' }));
}

