/** Helpers for tests of the QEMU driver (qemu:///session?root=DIR on a private folder). */
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Connection, type OpenOptions } from '../../src/index.js';
import { requestMonitorRelease } from '../../src/drivers/qemu/monitor.js';
import { QmpClient } from '../../src/drivers/qemu/qmp/client.js';
import { privateDir, testGuest } from './helpers.js';

export interface QemuRoot {
  dir: string;
  uri: string;
  open(options?: OpenOptions): Promise<Connection>;
  img(name: string, size?: string, format?: 'raw' | 'qcow2'): string;
  /** SIGKILLs (by pid) every QEMU whose command line names this folder, removes its taps, then the folder. */
  cleanup(): Promise<void>;
}

export function qemuRoot(prefix = 'vkq-', query = ''): QemuRoot {
  const dir = privateDir(prefix);
  const uri = `qemu:///session?root=${dir}${query}`;
  const conns: Connection[] = [];
  return {
    dir,
    uri,
    async open(options) {
      const c = await Connection.open(uri, options);
      conns.push(c);
      return c;
    },
    img(name, size = '16M', format = 'qcow2') {
      const p = join(dir, name);
      execFileSync('qemu-img', ['create', '-q', '-f', format, p, size]);
      return p;
    },
    async cleanup() {
      for (const c of conns) await c.close().catch(() => {});
      await cleanUpRoot(dir, uri);
    },
  };
}

/**
 * Removes what a root folder left: destroys its domains through the driver (which removes taps and
 * runtime folders), SIGKILLs (by pid) anything still naming the folder, deletes taps tagged for its
 * domains, then the folder.
 */
export async function cleanUpRoot(dir: string, uri: string): Promise<void> {
  try {
    const c = await Connection.open(uri);
    for (const d of await c.listAllDomains()) if (await d.isActive()) await d.destroy().catch(() => {});
    await c.close();
  } catch {
    // a broken state folder: the kills below still clean up
  }
  for (const pid of pidsMentioning(dir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const tap of tapsOf(dir)) execFileSync('ip', ['link', 'del', tap]);
  rmSync(dir, { recursive: true, force: true });
}

/** Pids of processes whose command line contains `needle` (our private folder: never someone else's). */
export function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** QEMU processes running for a root folder. */
export function qemusOf(dir: string): number[] {
  return pidsMentioning(dir).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('qemu-system');
    } catch {
      return false;
    }
  });
}

/** Taps whose ifalias says virtkit made them for this domain. */
export function tapsOfDomain(uuid: string): string[] {
  return [...taggedTaps()].filter(([, u]) => u === uuid).map(([name]) => name);
}

/** Host interfaces tagged by virtkit, with the tag's UUID (an interface may vanish while this reads). */
function taggedTaps(): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync('/sys/class/net')) {
    try {
      const tag = readFileSync(`/sys/class/net/${name}/ifalias`, 'utf8').trim();
      if (tag.startsWith('virtkit:')) out.set(name, tag.slice('virtkit:'.length));
    } catch {
      // no ifalias, or gone
    }
  }
  return out;
}

/**
 * Taps made for domains of this root folder: tagged `virtkit:<uuid>` with a UUID stored under it
 * (other test files running at the same time make taps of their own).
 */
export function tapsOf(dir: string): string[] {
  const uuids = new Set<string>();
  const walk = (d: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          for (const m of readFileSync(p, 'utf8').matchAll(/<uuid>([0-9a-f-]{36})<\/uuid>/g)) uuids.add(m[1]!);
        } catch {
          // unreadable
        }
      }
    }
  };
  walk(join(dir, 'state'));
  return [...taggedTaps()].filter(([, uuid]) => uuids.has(uuid)).map(([name]) => name);
}

/** A domain the test guest boots in: kernel + initrd, serial to `<dir>/<name>.serial`, virtio-scsi and qemu-xhci. */
export function guestDomain(root: QemuRoot, name: string, opts: { devices?: string; machine?: string; kernel?: boolean; memory?: number } = {}): string {
  const kernel = opts.kernel === false ? '' : (() => {
    const g = testGuest();
    return `<kernel>${g.kernel}</kernel><initrd>${g.initrd}</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline>`;
  })();
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${opts.memory ?? 192}</memory>
  <os><type arch='x86_64' machine='${opts.machine ?? 'pc'}'>hvm</type>${kernel}</os>
  <features><acpi/></features>
  <devices>
    <controller type='scsi' model='virtio-scsi'/>
    <controller type='usb' model='qemu-xhci'/>
    <serial type='file'><source path='${join(root.dir, `${name}.serial`)}'/></serial>
    <memballoon model='none'/>
    ${opts.devices ?? ''}
  </devices>
</domain>`;
}

/** A raw QMP connection to a running domain's monitor, asking a driver that holds it to let go (after its call in progress). */
export async function monitorOf(root: QemuRoot): Promise<QmpClient> {
  const run = join(root.dir, 'run');
  const dirs = readdirSync(run).filter((d) => d.startsWith('domain-'));
  if (dirs.length !== 1) throw new Error(`expected one running domain under ${run}, found ${dirs.join(' ')}`);
  const socket = join(run, dirs[0]!, 'monitor.sock');
  requestMonitorRelease(socket);
  return QmpClient.connect(socket, { timeoutMs: 15_000 });
}

/** Runs a script in a separate Node process (tsx), returning its exit code/signal and output. */
export function runNode(script: string, env: Record<string, string> = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '../..'),
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code, signal) => resolve({ code, signal, out }));
  });
}
