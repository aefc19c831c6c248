/**
 * The floor of bench/qemu.ts: the fewest QMP commands a hot-plug takes, sent by a tiny client (no
 * virtkit code) to a QEMU the benchmark starts itself. Line-delimited JSON over the unix socket,
 * replies in order, events kept with the time they arrived.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

interface QmpMessage {
  QMP?: unknown;
  event?: string;
  data?: Record<string, unknown>;
  return?: unknown;
  error?: { class: string; desc: string };
}

export class TinyQmp {
  #sock!: net.Socket;
  #buf = '';
  readonly #replies: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  readonly #waiters = new Set<{ match: (e: QmpMessage) => boolean; resolve: () => void }>();
  #greeted!: () => void;

  /** Connects (retrying while QEMU has not created the socket yet), then negotiates capabilities. */
  static async connect(path: string, timeoutMs = 30_000): Promise<TinyQmp> {
    const q = new TinyQmp();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await q.#open(path);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    await q.cmd('qmp_capabilities');
    return q;
  }

  #open(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection(path);
      s.once('error', reject);
      this.#greeted = () => {
        s.off('error', reject);
        // QEMU may reset the connection as it quits: nothing waits for it any more.
        s.on('error', () => undefined);
        resolve();
      };
      s.setEncoding('utf8');
      s.on('data', (d: string) => this.#onData(d));
      this.#sock = s;
    });
  }

  #onData(d: string): void {
    this.#buf += d;
    for (let i = this.#buf.indexOf('\n'); i >= 0; i = this.#buf.indexOf('\n')) {
      const line = this.#buf.slice(0, i).trim();
      this.#buf = this.#buf.slice(i + 1);
      if (!line) continue;
      const msg = JSON.parse(line) as QmpMessage;
      if (msg.QMP) this.#greeted();
      else if (msg.event) {
        for (const w of this.#waiters) if (w.match(msg)) w.resolve();
      } else {
        const p = this.#replies.shift();
        if (msg.error) p?.reject(new Error(`${msg.error.class}: ${msg.error.desc}`));
        else p?.resolve(msg.return);
      }
    }
  }

  cmd(execute: string, args?: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.#replies.push({ resolve, reject });
      this.#sock.write(`${JSON.stringify(args ? { execute, arguments: args } : { execute })}\n`);
    });
  }

  /** Resolves when DEVICE_DELETED for `id` arrives; arm it before sending device_del. */
  deviceDeleted(id: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const w = {
        match: (e: QmpMessage) => e.event === 'DEVICE_DELETED' && e.data?.device === id,
        resolve: () => {
          clearTimeout(timer);
          this.#waiters.delete(w);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(w);
        reject(new Error(`no DEVICE_DELETED for ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(w);
    });
  }

  close(): void {
    this.#sock.destroy();
  }
}

/** A device the floor plugs: the commands libvirt and virtkit send for it, minus their bookkeeping. */
export interface FloorDevice {
  id: string;
  /** blockdev-add (storage node, then format node) or netdev_add arguments. */
  backends: { command: 'blockdev-add' | 'netdev_add'; args: Record<string, unknown> }[];
  device: Record<string, unknown>;
  /** blockdev-del (format, then storage) or netdev_del, after DEVICE_DELETED. */
  release: { command: 'blockdev-del' | 'netdev_del'; args: Record<string, unknown> }[];
}

/** QMP's disk objects as libvirt 9.0 sends them (feasibility.md §4b): a file node, a qcow2 node, the device. */
export function floorDisk(id: string, file: string, device: Record<string, unknown>): FloorDevice {
  const storage = `${id}-storage`;
  const format = `${id}-format`;
  return {
    id,
    backends: [
      { command: 'blockdev-add', args: { driver: 'file', filename: file, 'node-name': storage, 'auto-read-only': true, discard: 'unmap' } },
      { command: 'blockdev-add', args: { driver: 'qcow2', 'node-name': format, 'read-only': false, file: storage } },
    ],
    device: { ...device, id, drive: format },
    release: [
      { command: 'blockdev-del', args: { 'node-name': format } },
      { command: 'blockdev-del', args: { 'node-name': storage } },
    ],
  };
}

export function floorNic(id: string, mac: string): FloorDevice {
  const netdev = `host${id}`;
  return {
    id,
    backends: [{ command: 'netdev_add', args: { type: 'user', id: netdev } }],
    device: { driver: 'virtio-net-pci', id, netdev, mac },
    release: [{ command: 'netdev_del', args: { id: netdev } }],
  };
}

export async function floorAttach(q: TinyQmp, dev: FloorDevice): Promise<void> {
  for (const b of dev.backends) await q.cmd(b.command, b.args);
  await q.cmd('device_add', dev.device);
}

export async function floorDetach(q: TinyQmp, dev: FloorDevice, timeoutMs: number): Promise<void> {
  const gone = q.deviceDeleted(dev.id, timeoutMs);
  await q.cmd('device_del', { id: dev.id });
  await gone;
  for (const r of dev.release) await q.cmd(r.command, r.args);
}

export interface FloorQemu {
  child: ChildProcess;
  qmp: TinyQmp;
}

/** Spawns QEMU stopped (-S), connects, sends `cont`: what any manager must do before a guest runs. */
export async function floorStart(emulator: string, args: string[], monitor: string): Promise<FloorQemu> {
  const child = spawn(emulator, [...args, '-qmp', `unix:${monitor},server=on,wait=off`, '-S'], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.resume();
  const qmp = await Promise.race([
    TinyQmp.connect(monitor),
    new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`QEMU exited with ${code}`)))),
  ]);
  await qmp.cmd('cont');
  return { child, qmp };
}

export async function floorStop(q: FloorQemu): Promise<void> {
  if (q.child.exitCode !== null || q.child.signalCode !== null) return;
  const exited = new Promise((r) => q.child.once('exit', r));
  await q.qmp.cmd('quit').catch(() => undefined);
  q.qmp.close();
  const timer = setTimeout(() => q.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
