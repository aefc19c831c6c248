/**
 * Shared pieces of the remote-protocol tests: real peers (virsh, libvirtd, python3-libvirt) found or
 * reported missing (a failure under CI, a skip with the reason elsewhere), virtkitd started in a
 * private temp folder (in-process or as the built binary), a private libvirtd, and a raw RPC client.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../src/daemon/log.js';
import { type ServerOptions, VirtkitServer } from '../../src/daemon/server.js';
import type { Codec } from '../../src/rpc/codec.js';
import { decRemoteError, type RemoteError } from '../../src/rpc/generated/remote-protocol.js';
import { decodeFrame, encodeFrame, type Frame, FrameReader, type Header } from '../../src/rpc/message.js';

export const DAEMON_MAIN = fileURLToPath(new URL('../../dist/daemon/main.js', import.meta.url));
export const PYTHON = '/usr/bin/python3';
export const VIRSH = '/usr/bin/virsh';
export const LIBVIRTD = '/usr/sbin/libvirtd';

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

export function tempDir(prefix = 'virtkit-remote-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
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

export interface DaemonProcess {
  child: ChildProcess;
  socket: string;
  dir: string;
  /** What the daemon printed on stdout (its ready line). */
  ready: string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** The built virtkitd binary (dist/daemon/main.js), started with `args` plus a socket in a private folder. */
export async function startDaemonProcess(args: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<DaemonProcess> {
  if (!existsSync(DAEMON_MAIN)) throw new Error(`${DAEMON_MAIN} is missing: build first (npm run build)`);
  const { dir, cleanup } = tempDir();
  const socket = join(dir, 'sock');
  const child = spawn(process.execPath, [DAEMON_MAIN, '--socket', socket, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const ready = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`virtkitd did not start: ${stderr}`)), 15_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('\n')) {
        clearTimeout(timer);
        resolve(stdout.trim());
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`virtkitd exited with ${code}: ${stderr}`));
    });
  });
  return {
    child,
    socket,
    dir,
    ready,
    stderr: () => stderr,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) {
          cleanup();
          resolve(child.exitCode);
          return;
        }
        child.once('exit', (code) => {
          cleanup();
          resolve(code);
        });
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with an argv array (never a shell), feeding `input` on stdin. */
export function run(cmd: string, args: string[], input = '', timeoutMs = 60_000, env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** `virsh -c URI 'CMD1; CMD2; ...'`: one virsh session running the commands in order. */
export function virsh(uri: string, commands: string, extra: string[] = []): Promise<RunResult> {
  return run(VIRSH, [...extra, '-c', uri, commands], '', 60_000, { ...process.env, LC_ALL: 'C', VIRSH_DEFAULT_CONNECT_URI: '' });
}

export interface Libvirtd {
  socket: string;
  roSocket: string;
  dir: string;
  tcpPort?: number;
  stop(): Promise<void>;
}

/**
 * A private libvirtd: its sockets, pid file and config in a temp folder, no listening on TCP unless
 * `tcpPort` is given (then 127.0.0.1 only). Without `drivers`, no driver modules are loaded, so it
 * serves only the test driver (built into libvirt) and touches no system state.
 */
export async function startLibvirtd(opts: { tcpPort?: number; driverDir?: string } = {}): Promise<Libvirtd> {
  const { dir, cleanup } = tempDir('virtkit-libvirtd-');
  const run = join(dir, 'run');
  const empty = join(dir, 'no-drivers');
  spawnSync('mkdir', ['-p', run, empty]);
  const conf = [
    'listen_tls = 0',
    `listen_tcp = ${opts.tcpPort ? 1 : 0}`,
    opts.tcpPort ? `tcp_port = "${opts.tcpPort}"` : '',
    'listen_addr = "127.0.0.1"',
    'auth_tcp = "none"',
    `unix_sock_dir = "${run}"`,
    'unix_sock_rw_perms = "0700"',
    'unix_sock_ro_perms = "0700"',
    'auth_unix_rw = "none"',
    'auth_unix_ro = "none"',
    'log_outputs = "1:stderr"',
    'log_filters = "1:nothing"',
  ].join('\n');
  writeFileSync(join(dir, 'libvirtd.conf'), `${conf}\n`);
  const args = ['-f', join(dir, 'libvirtd.conf'), '-p', join(dir, 'libvirtd.pid')];
  if (opts.tcpPort) args.push('--listen');
  const child = spawn(LIBVIRTD, args, {
    env: { ...process.env, LIBVIRT_DRIVER_DIR: opts.driverDir ?? empty },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const socket = join(run, 'libvirt-sock');
  const deadline = Date.now() + 20_000;
  while (!(await canConnect(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`libvirtd did not start (exit ${child.exitCode}): ${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    socket,
    roSocket: join(run, 'libvirt-sock-ro'),
    dir,
    tcpPort: opts.tcpPort,
    stop: () =>
      new Promise((resolve) => {
        const done = (): void => {
          cleanup();
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

export function canConnect(path: string | { host: string; port: number }): Promise<boolean> {
  return new Promise((resolve) => {
    const s = typeof path === 'string' ? net.connect(path) : net.connect(path.port, path.host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A free TCP port on 127.0.0.1 (bound once, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A bare RPC connection for protocol tests: send frames, read frames, see the close. */
export class RawClient {
  readonly socket: net.Socket;
  readonly frames: Frame[] = [];
  closed = false;
  #waiters: (() => void)[] = [];
  #reader = new FrameReader();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      for (const f of this.#reader.push(d)) this.frames.push(decodeFrame(f));
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

export interface Sshd {
  port: number;
  user: string;
  /** Private key accepted by this sshd. */
  keyfile: string;
  knownHosts: string;
  stop(): Promise<void>;
}

/**
 * A private OpenSSH server on 127.0.0.1 (its own host key, config and authorized key in a temp
 * folder; key login only) so `+ssh` URIs run the real ssh client against a real sshd.
 */
export async function startSshd(): Promise<Sshd> {
  const { dir, cleanup } = tempDir('virtkit-sshd-');
  const user = (await import('node:os')).userInfo().username;
  const keygen = (file: string) => spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { encoding: 'utf8' });
  for (const f of ['hostkey', 'id']) {
    const r = keygen(join(dir, f));
    if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  }
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'id.pub')));
  if (process.getuid?.() === 0) spawnSync('mkdir', ['-p', '-m', '0755', '/run/sshd']);
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'hostkey')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    `AllowUsers ${user}`,
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'LogLevel ERROR',
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect({ host: '127.0.0.1', port }))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`sshd did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    user,
    keyfile: join(dir, 'id'),
    knownHosts: join(dir, 'known_hosts'),
    stop: () =>
      new Promise((resolve) => {
        const done = (): void => {
          cleanup();
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}
