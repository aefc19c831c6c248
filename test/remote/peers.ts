/**
 * Real peers and daemons for the remote-protocol tests and the benchmark, each in a private temp
 * folder: virtkitd (the built binary), a private libvirtd, an OpenSSH server; plus argv-only process
 * helpers. No node:test import here, so bench/ can use it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DAEMON_MAIN = fileURLToPath(new URL('../../dist/daemon/main.js', import.meta.url));
export const PYTHON = '/usr/bin/python3';
export const VIRSH = '/usr/bin/virsh';
export const LIBVIRTD = '/usr/sbin/libvirtd';

export function tempDir(prefix = 'virtkit-remote-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
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
        if (child.exitCode !== null || child.signalCode !== null) {
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
        if (child.exitCode !== null || child.signalCode !== null) return done();
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
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
      }),
  };
}

/** Creates the users and groups libvirt's QEMU driver resolves before reading qemu.conf (feasibility.md §4b). */
export function ensureLibvirtQemuUsers(): string | undefined {
  if (process.getuid?.() !== 0) return 'libvirtd with its QEMU driver needs root here (users libvirt-qemu, group kvm)';
  const has = (db: string, name: string): boolean => spawnSync('getent', [db, name]).status === 0;
  const run1 = (cmd: string, args: string[]): string | undefined => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return r.status === 0 ? undefined : `${cmd} ${args.join(' ')}: ${r.stderr || r.error}`;
  };
  if (!has('group', 'kvm')) {
    const e = run1('groupadd', ['--system', 'kvm']);
    if (e) return e;
  }
  if (!has('group', 'libvirt-qemu')) {
    const e = run1('groupadd', ['--system', 'libvirt-qemu']);
    if (e) return e;
  }
  if (!has('passwd', 'libvirt-qemu')) {
    const e = run1('useradd', ['--system', '--no-create-home', '-g', 'libvirt-qemu', '-G', 'kvm', '-s', '/usr/sbin/nologin', 'libvirt-qemu']);
    if (e) return e;
  }
  return undefined;
}

/**
 * Runs its arguments in the caller's private mount namespace with libvirt's system folders bound to
 * folders under $1, so a privileged libvirtd keeps all its state (config, sockets, QEMU driver
 * state, capability cache, logs) in a temp folder. Constant text: paths arrive as arguments.
 */
const NAMESPACE_SCRIPT = `#!/bin/sh
set -e
state="$1"
shift
for d in etc/libvirt run/libvirt var/lib/libvirt var/cache/libvirt var/log/libvirt; do
  mkdir -p "$state/$d" "/$d"
  mount --bind "$state/$d" "/$d"
done
exec "$@"
`;

const QEMU_CONF = `# libvirtd's QEMU driver on a container-like host (feasibility.md §4b)
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
cgroup_controllers = [ ]
namespaces = [ ]
stdio_handler = "file"
`;

/**
 * A privileged libvirtd with only its QEMU driver loaded, in a private mount namespace (unshare):
 * /etc/libvirt, /run/libvirt, /var/{lib,cache,log}/libvirt are folders of a temp directory, so it
 * shares nothing with the host's or another test's libvirtd. Root only.
 */
export async function startLibvirtdQemu(): Promise<Libvirtd & { stateDir: string }> {
  const why = ensureLibvirtQemuUsers();
  if (why) throw new Error(why);
  const { dir, cleanup } = tempDir('virtkit-libvirtd-qemu-');
  const drivers = join(dir, 'drivers');
  const sockDir = join(dir, 'sock');
  spawnSync('mkdir', ['-p', drivers, sockDir, join(dir, 'state/etc/libvirt')]);
  spawnSync('ln', ['-s', '/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so', join(drivers, 'libvirt_driver_qemu.so')]);
  writeFileSync(join(dir, 'ns.sh'), NAMESPACE_SCRIPT, { mode: 0o700 });
  // libvirt's QEMU capability cache survives runs (it is keyed by the QEMU binary), saving its probe.
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'virtkit', 'libvirtd-cache');
  spawnSync('mkdir', ['-p', '-m', '0700', cache, join(dir, 'state/var/cache')]);
  spawnSync('ln', ['-s', cache, join(dir, 'state/var/cache/libvirt')]);
  writeFileSync(join(dir, 'state/etc/libvirt/qemu.conf'), QEMU_CONF);
  writeFileSync(
    join(dir, 'state/etc/libvirt/libvirtd.conf'),
    ['listen_tls = 0', 'listen_tcp = 0', `unix_sock_dir = "${sockDir}"`, 'unix_sock_rw_perms = "0700"', 'unix_sock_ro_perms = "0700"', 'auth_unix_rw = "none"', 'auth_unix_ro = "none"', ''].join('\n'),
  );
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', '/bin/sh', join(dir, 'ns.sh'), join(dir, 'state'), LIBVIRTD, '-f', '/etc/libvirt/libvirtd.conf', '-p', '/run/libvirt/libvirtd.pid'],
    { env: { ...process.env, LIBVIRT_DRIVER_DIR: drivers }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    if (stderr.length < 100_000) stderr += d;
  });
  const socket = join(sockDir, 'libvirt-sock');
  const deadline = Date.now() + 60_000;
  while (!(await canConnect(socket))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      cleanup();
      throw new Error(`libvirtd (QEMU driver) did not start (exit ${child.exitCode}): ${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    socket,
    roSocket: join(sockDir, 'libvirt-sock-ro'),
    dir,
    stateDir: join(dir, 'state'),
    stop: () =>
      new Promise((resolve) => {
        const done = (): void => {
          cleanup();
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}
