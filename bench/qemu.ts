/**
 * virtkit's QEMU driver against libvirt 9.0's QEMU driver and the raw QMP floor, in one run, on the
 * same test guest (scripts/build-test-guest.sh, TCG) and the same domain and device XML:
 *
 * - start: the start call until it returns (QEMU spawned, monitor ready, guest running); define is
 *   not timed;
 * - attach and detach per device kind (virtio-blk, scsi disk on virtio-scsi, usb disk on qemu-xhci,
 *   virtio-net NIC with user networking), LIVE, on a booted guest that acknowledges unplugs. Detach
 *   counts until the device is really gone: both drivers wait for DEVICE_DELETED (5000 ms, the
 *   default of both) and release the backends before returning.
 *
 * Sides: libvirt through python3-libvirt in-process against a private privileged libvirtd with only
 * its QEMU driver (test/remote/peers.ts: a private mount namespace, temp /etc/libvirt, /run/libvirt,
 * /var/...), the time of the library call measured inside Python; virtkit through its API in this
 * process (`qemu:///session?root=DIR`), the time of the awaited call; the floor: a tiny QMP client
 * (bench/qmp-floor.ts) sending exactly blockdev-add x2 + device_add, device_del + DEVICE_DELETED +
 * blockdev-del x2, netdev_add / netdev_del, to a QEMU this script starts itself.
 *
 * Each round interleaves the sides step by step, in an order rotating from round to round:
 * START_SAMPLES timed starts on each side in turn (each followed by a destroy, so no other guest
 * runs meanwhile), then an untimed start of every side and, with the three guests booted, CYCLES attach/detach cycles per device kind going round the sides: attach,
 * wait until the guest reports the device (serial console), let it settle 300 ms, detach, wait until
 * the guest reports it gone. The first sample of every metric on every side is a warm-up and not counted.
 * Figures are medians over all rounds. Not a test; CI does not run it. Root only (libvirtd's QEMU
 * driver, users kvm/libvirt-qemu created as the tests do).
 *
 *   npm run bench:qemu [-- --quick] [-- --json] [-- --sides virtkit,floor] [-- --rounds 6]
 *     --quick  2 rounds of 2 starts and 2 cycles per device kind (checks the plumbing)
 *     --json   also print every sample
 *     --sides  run only these sides (libvirt, virtkit, floor), e.g. while profiling one of them
 *     --rounds N  N rounds instead of 3 (more samples: a PCI unplug waits on the guest, whose speed drifts)
 */
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Connection, DeviceModify, type Domain } from '../src/index.js';
import { guestDomain, qemuRoot } from '../test/qemu/driver-helpers.js';
import { QEMU, SerialLog, testGuest } from '../test/qemu/helpers.js';
import { PYTHON, startLibvirtdQemu, tempDir } from '../test/remote/peers.js';
import { type FloorDevice, type FloorQemu, floorAttach, floorDetach, floorDisk, floorNic, floorStart, floorStop } from './qmp-floor.js';

const quick = process.argv.includes('--quick');
const sidesArg = process.argv.indexOf('--sides');
const SIDES = (sidesArg > 0 ? (process.argv[sidesArg + 1] ?? '') : 'libvirt,virtkit,floor').split(',');
const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : quick ? 2 : 3;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 20) throw new Error('--rounds takes a count from 1 to 20');
const START_SAMPLES = quick ? 2 : 4;
const CYCLES = quick ? 2 : 5;
const UNPLUG_TIMEOUT_MS = 5000;
const SETTLE_MS = 300;
const PY_SCRIPT = fileURLToPath(new URL('./libvirt_qemu_bench.py', import.meta.url));

type SideName = 'libvirt' | 'virtkit' | 'floor';
type Kind = 'virtio-blk' | 'scsi' | 'usb' | 'virtio-net';
const KINDS: Kind[] = ['virtio-blk', 'scsi', 'usb', 'virtio-net'];

/** Disk sizes tell the guest's reports apart (512-byte sectors); the NIC by its MAC. */
const SIZE_MIB: Record<Exclude<Kind, 'virtio-net'>, number> = { 'virtio-blk': 17, scsi: 18, usb: 19 };
const NIC_MAC = '52:54:00:be:0c:01';
/** A NIC present at boot, on every side (the hot-plugged one is the second NIC, as on most guests). */
const BOOT_NIC_MAC = '52:54:00:be:0c:00';
const BOOT_NIC = `<interface type='user'><mac address='${BOOT_NIC_MAC}'/><model type='virtio'/></interface>`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** What each side does; every call resolves with the milliseconds the measured call took. */
interface Side {
  name: SideName;
  serial: string;
  start(): Promise<number>;
  destroy(): Promise<void>;
  attach(kind: Kind): Promise<number>;
  detach(kind: Kind): Promise<number>;
  close(): Promise<void>;
}

function deviceXml(kind: Kind, img: (k: Kind) => string): string {
  switch (kind) {
    case 'virtio-net':
      return `<interface type='user'><mac address='${NIC_MAC}'/><model type='virtio'/></interface>`;
    case 'virtio-blk':
      return `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img(kind)}'/><target dev='vdb' bus='virtio'/></disk>`;
    case 'scsi':
      return `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img(kind)}'/><target dev='sdb' bus='scsi'/></disk>`;
    case 'usb':
      return `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img(kind)}'/><target dev='sdc' bus='usb'/></disk>`;
  }
}

function images(dir: string): (k: Kind) => string {
  const made = new Map<Kind, string>();
  return (k) => {
    let p = made.get(k);
    if (!p) {
      p = join(dir, `${k}.qcow2`);
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', p, `${SIZE_MIB[k as Exclude<Kind, 'virtio-net'>]}M`]);
      made.set(k, p);
    }
    return p;
  };
}

/** The guest's report of a device appearing ('+') or leaving ('-'). */
function guestLine(sign: '+' | '-', kind: Kind): RegExp {
  const s = sign === '+' ? '\\+' : '-';
  if (kind === 'virtio-net') return new RegExp(`VIRTKIT_GUEST ${s} net \\w+ ${NIC_MAC}`);
  return new RegExp(`VIRTKIT_GUEST ${s} blk \\w+ ${SIZE_MIB[kind] * 2048}\\b`);
}

// ---- virtkit: the API in this process ----

async function virtkitSide(): Promise<Side> {
  const root = qemuRoot('vkb-');
  const conn = await Connection.open(root.uri, { unplugTimeoutMs: UNPLUG_TIMEOUT_MS });
  const xml = guestDomain(root, 'bench', { devices: BOOT_NIC });
  const dom: Domain = await conn.defineXML(xml);
  const img = images(root.dir);
  const timed = async (fn: () => Promise<unknown>): Promise<number> => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  return {
    name: 'virtkit',
    serial: join(root.dir, 'bench.serial'),
    start: () => timed(() => dom.create()),
    destroy: () => dom.destroy(),
    attach: (kind) => timed(() => dom.attachDeviceFlags(deviceXml(kind, img), DeviceModify.LIVE)),
    async detach(kind) {
      let outcome = '';
      const ms = await timed(async () => {
        outcome = (await dom.detachDeviceFlags(deviceXml(kind, img), DeviceModify.LIVE)).outcome;
      });
      if (outcome !== 'removed') throw new Error(`virtkit: detach of ${kind} returned ${outcome}`);
      return ms;
    },
    async close() {
      if (await dom.isActive()) await dom.destroy();
      await dom.undefine();
      await conn.close();
      await root.cleanup();
    },
  };
}

// ---- libvirt: python3-libvirt in a child, against a private libvirtd ----

async function libvirtSide(): Promise<Side> {
  const lv = await startLibvirtdQemu();
  const uri = `qemu+unix:///system?socket=${lv.socket}`;
  const py = spawn(PYTHON, [PY_SCRIPT, uri], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  py.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const lines = createInterface({ input: py.stdout })[Symbol.asyncIterator]();
  const call = async (cmd: Record<string, unknown>): Promise<{ ms?: number; xml?: string }> => {
    py.stdin.write(`${JSON.stringify(cmd)}\n`);
    const { value, done } = await lines.next();
    if (done) throw new Error(`python3-libvirt exited: ${stderr.slice(-1000)}`);
    const out = JSON.parse(value as string) as { ms?: number; xml?: string; error?: string };
    if (out.error) throw new Error(`libvirt ${String(cmd.op)}: ${out.error}`);
    return out;
  };
  const fake = { dir: lv.dir } as Parameters<typeof guestDomain>[0];
  await call({ op: 'define', xml: guestDomain(fake, 'bench', { devices: BOOT_NIC }) });
  const img = images(lv.dir);
  return {
    name: 'libvirt',
    serial: join(lv.dir, 'bench.serial'),
    start: async () => (await call({ op: 'start' })).ms!,
    destroy: async () => {
      await call({ op: 'destroy' });
    },
    attach: async (kind) => (await call({ op: 'attach', xml: deviceXml(kind, img) })).ms!,
    async detach(kind) {
      const ms = (await call({ op: 'detach', xml: deviceXml(kind, img) })).ms!;
      // libvirt returns success after its 5 s wait even when the guest did not answer: check.
      const live = (await call({ op: 'xml' })).xml!;
      if (kind === 'virtio-net' ? live.includes(NIC_MAC) : live.includes(img(kind))) throw new Error(`libvirt: ${kind} still present after detach (${ms.toFixed(0)} ms)`);
      return ms;
    },
    async close() {
      await call({ op: 'destroy' }).catch(() => undefined);
      await call({ op: 'undefine' }).catch(() => undefined);
      py.stdin.end();
      await new Promise((r) => (py.exitCode !== null ? r(undefined) : py.once('exit', r)));
      await lv.stop();
    },
  };
}

// ---- the floor: a QEMU started here, the tiny client ----

function floorSide(): Side {
  const { dir, cleanup } = tempDir('vkb-floor-');
  const guest = testGuest();
  const serial = join(dir, 'bench.serial');
  const args = [
    '-machine', 'pc,accel=tcg', '-m', '192', '-smp', '1', '-nodefaults', '-no-user-config', '-display', 'none',
    '-serial', `file:${serial}`, '-device', 'virtio-scsi-pci,id=scsi0', '-device', 'qemu-xhci,id=usb',
    '-netdev', 'user,id=hostnet0', '-device', `virtio-net-pci,netdev=hostnet0,id=net0,mac=${BOOT_NIC_MAC}`,
    '-kernel', guest.kernel, '-initrd', guest.initrd, '-append', 'console=ttyS0 quiet panic=-1',
  ];
  const img = images(dir);
  const devices: Record<Kind, FloorDevice> = {
    'virtio-blk': floorDisk('virtio-disk1', img('virtio-blk'), { driver: 'virtio-blk-pci', bus: 'pci.0' }),
    scsi: floorDisk('scsi0-0-0-1', img('scsi'), { driver: 'scsi-hd', bus: 'scsi0.0', channel: 0, 'scsi-id': 0, lun: 1 }),
    usb: floorDisk('usb-disk2', img('usb'), { driver: 'usb-storage', bus: 'usb.0' }),
    'virtio-net': floorNic('net1', NIC_MAC),
  };
  let q: FloorQemu | undefined;
  const timed = async (fn: () => Promise<unknown>): Promise<number> => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  return {
    name: 'floor',
    serial,
    start: () =>
      timed(async () => {
        q = await floorStart(QEMU, args, join(dir, 'qmp.sock'));
      }),
    async destroy() {
      if (q) await floorStop(q);
      q = undefined;
    },
    attach: (kind) => timed(() => floorAttach(q!.qmp, devices[kind])),
    detach: (kind) => timed(() => floorDetach(q!.qmp, devices[kind], UNPLUG_TIMEOUT_MS)),
    async close() {
      if (q) await floorStop(q);
      cleanup();
    },
  };
}

// ---- the run ----

type Samples = Record<string, number[]>;

/**
 * One round, the sides interleaved step by step so a machine whose load changes (other work on a
 * shared host) weighs on every side alike: each start sample is taken on every side in turn, then the
 * guests of all sides run together and each attach/detach cycle goes round the sides.
 */
async function round(sides: Side[], results: Record<SideName, Samples>, warm: boolean): Promise<void> {
  const keep = (side: Side, metric: string, ms: number, first: boolean): void => {
    if (warm && first) return;
    const samples = results[side.name];
    samples[metric] = [...(samples[metric] ?? []), ms];
  };
  // Every timed start has no other guest running: each is destroyed before the next side starts.
  for (let i = 0; i < START_SAMPLES; i++) {
    for (const side of sides) {
      keep(side, 'start', await side.start(), i === 0);
      await side.destroy();
    }
  }
  for (const side of sides) {
    rmSync(side.serial, { force: true });
    await side.start();
  }
  const serials = new Map(sides.map((side) => [side, new SerialLog(side.serial)]));
  for (const side of sides) await serials.get(side)!.waitFor(/VIRTKIT_GUEST_READY/, 300_000);
  for (const kind of KINDS) {
    for (let c = 0; c < CYCLES; c++) {
      for (const side of sides) {
        const serial = serials.get(side)!;
        keep(side, `attach ${kind}`, await side.attach(kind), c === 0);
        await serial.waitFor(guestLine('+', kind), 60_000);
        await new Promise((r) => setTimeout(r, SETTLE_MS));
        keep(side, `detach ${kind}`, await side.detach(kind), c === 0);
        await serial.waitFor(guestLine('-', kind), 60_000);
      }
    }
  }
  for (const side of sides) await side.destroy();
}

const ms = (x: number | undefined): string => (x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(1));

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("bench:qemu needs root (libvirtd's QEMU driver)");
  testGuest();
  const load0 = os.loadavg()[0]!;
  const sides: Side[] = [];
  const results: Record<SideName, Samples> = { libvirt: {}, virtkit: {}, floor: {} };
  try {
    if (SIDES.includes('libvirt')) sides.push(await libvirtSide());
    if (SIDES.includes('virtkit')) sides.push(await virtkitSide());
    if (SIDES.includes('floor')) sides.push(floorSide());
    for (let r = 0; r < ROUNDS; r++) {
      const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
      const t = performance.now();
      await round(order, results, r === 0);
      console.error(`round ${r + 1}/${ROUNDS} (${order.map((s) => s.name).join(', ')}): ${((performance.now() - t) / 1000).toFixed(1)} s, load ${os.loadavg()[0]!.toFixed(1)}`);
    }
  } finally {
    for (const side of sides) await side.close().catch((err: unknown) => console.error(`closing ${side.name}:`, err));
  }
  const load1 = os.loadavg()[0]!;
  const med = (side: SideName, metric: string): number | undefined => (results[side][metric]?.length ? median(results[side][metric]!) : undefined);
  const n = (results.virtkit.start?.length ?? 0) as number;
  console.log(`\nvirtkit's QEMU driver vs libvirt 9.0's QEMU driver ${quick ? '(quick) ' : ''}on the booted test guest (TCG, pc), ms, medians (${n} starts, ${(ROUNDS * CYCLES) - 1} cycles per device kind per side)\n`);
  console.log('| metric | libvirt 9.0 | virtkit | QMP floor | virtkit / libvirt | virtkit / floor | target | met? |');
  console.log('|---|---:|---:|---:|---:|---:|---|---|');
  const rows: [string, string][] = [['start', 'start']];
  for (const k of KINDS) rows.push([`attach ${k}`, `attach ${k}`]);
  for (const k of KINDS) rows.push([`detach ${k}`, `detach ${k}`]);
  for (const [label, metric] of rows) {
    const lib = med('libvirt', metric);
    const vk = med('virtkit', metric);
    const fl = med('floor', metric);
    const vsLib = vk !== undefined && lib !== undefined ? vk / lib : undefined;
    const vsFloor = vk !== undefined && fl !== undefined ? vk / fl : undefined;
    const detach = metric.startsWith('detach');
    const target = detach ? '<= 1.1x floor' : '<= 0.5x libvirt';
    const ratio = detach ? vsFloor : vsLib;
    const met = ratio === undefined ? '-' : ratio <= (detach ? 1.1 : 0.5) ? 'yes' : 'NO';
    console.log(`| ${label} | ${ms(lib)} | ${ms(vk)} | ${ms(fl)} | ${vsLib?.toFixed(2) ?? '-'}x | ${vsFloor?.toFixed(2) ?? '-'}x | ${target} | ${met} |`);
  }
  console.log(`\nload average (1 min): ${load0.toFixed(1)} at the start, ${load1.toFixed(1)} at the end, on ${os.cpus().length} CPUs`);
  if (process.argv.includes('--json')) console.log(JSON.stringify(results));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
