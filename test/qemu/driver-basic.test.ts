/**
 * qemu:///session without booting a guest OS (QEMU idles in its firmware): lifecycle, restart-proof
 * state shared by processes, QEMU killed with SIGKILL, unplugs that need no guest, unplugs deferred
 * until a guest is there, and bad input that must leave QEMU and the host as they were.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { DeviceModify, DomainStart, DomainState, DomainXML, ErrorCode, isVirtError, LifecycleEvent, type DomainEvent } from '../../src/index.js';
import { guestDomain, monitorOf, qemuRoot, qemusOf, runNode, type QemuRoot, tapsOfDomain } from './driver-helpers.js';
import { qemuTestOptions } from './helpers.js';

const opts = qemuTestOptions();
const isRoot = process.getuid?.() === 0;
const rootOnly = { skip: isRoot || process.env.CI === 'true' ? undefined : 'needs root (taps)' };

/** Files a process holds open. */
function openFiles(pid: number): string[] {
  return readdirSync(`/proc/${pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('qemu:///session lifecycle and state, no guest OS', opts, () => {
  // Each test has its own root folder (domains, QEMUs, runtime), cleaned up whatever happens.
  let root: QemuRoot;
  beforeEach(() => {
    root = qemuRoot('vkq-basic-', '&unplugTimeout=400');
  });
  afterEach(() => root.cleanup());

  test('define, start paused, resume, suspend, destroy: states, events, one QEMU per running domain', async () => {
    const conn = await root.open();
    const events: DomainEvent[] = [];
    conn.on('lifecycle', (e) => events.push(e));
    const dom = await conn.defineXML(guestDomain(root, 'life', { kernel: false }));
    assert.equal(await dom.isActive(), false);
    await dom.createWithFlags(DomainStart.PAUSED);
    assert.deepEqual(await dom.getState(), { state: DomainState.PAUSED, reason: 1 });
    assert.equal(qemusOf(root.dir).length, 1);
    const run = readdirSync(join(root.dir, 'run'));
    assert.equal(run.length, 1);
    assert.equal(statSync(join(root.dir, 'run', run[0]!)).mode & 0o777, 0o700);
    assert.equal(statSync(join(root.dir, 'run', run[0]!, 'monitor.sock')).mode & 0o777, 0o600);
    await dom.resume();
    assert.equal((await dom.getState()).state, DomainState.RUNNING);
    await dom.suspend();
    assert.equal((await dom.getState()).state, DomainState.PAUSED);
    await dom.resume();
    const live = await dom.getXMLDesc();
    assert.match(live, /<domain type='qemu' id='\d+'>/);
    assert.match(live, /<alias name='scsi0'\/>/);
    await dom.destroy();
    assert.deepEqual(await dom.getState(), { state: DomainState.SHUTOFF, reason: 2 });
    await waitFor('QEMU gone', () => qemusOf(root.dir).length === 0);
    assert.deepEqual(readdirSync(join(root.dir, 'run')), []);
    assert.deepEqual(
      events.filter((e) => e.type === 'lifecycle').map((e) => (e as { event: number }).event),
      // A paused start is STARTED then SUSPENDED, as libvirt reports it.
      [LifecycleEvent.DEFINED, LifecycleEvent.STARTED, LifecycleEvent.SUSPENDED, LifecycleEvent.RESUMED, LifecycleEvent.SUSPENDED, LifecycleEvent.RESUMED, LifecycleEvent.STOPPED],
    );
    await dom.undefine();
  });

  test('QEMU outlives the process that started it; another process finds it, runs it, stops it', async () => {
    const conn = await root.open();
    const dom = await conn.defineXML(guestDomain(root, 'shared', { kernel: false }));
    await dom.create();
    const xml = await dom.getXMLDesc();
    await conn.close();
    assert.equal(qemusOf(root.dir).length, 1, 'QEMU keeps running after the connection closed');
    const child = await runNode(`
      import { Connection } from './src/index.ts';
      const c = await Connection.open(${JSON.stringify(root.uri)});
      const d = await c.lookupByName('shared');
      console.log(JSON.stringify({ state: await d.getState(), xml: await d.getXMLDesc() }));
      await d.suspend();
      await c.close();
    `);
    assert.equal(child.code, 0, child.out);
    const seen = JSON.parse(child.out.trim().split('\n').pop()!);
    assert.equal(seen.state.state, DomainState.RUNNING);
    assert.equal(seen.xml, xml, 'the other process sees the same live XML');
    const again = await root.open();
    const dom2 = await again.lookupByName('shared');
    assert.equal((await dom2.getState()).state, DomainState.PAUSED, 'the pause made by the other process');
    await dom2.destroy();
    await dom2.undefine();
  });

  test('a connection keeps the monitor between its calls and lets go at once when another client asks', async () => {
    const conn = await root.open();
    const dom = await conn.defineXML(guestDomain(root, 'handover', { kernel: false }));
    await dom.create();
    await dom.suspend();
    const run = join(root.dir, 'run', readdirSync(join(root.dir, 'run'))[0]!);
    const releaseSockets = () => readdirSync(run).filter((n) => n.startsWith('rel-'));
    assert.equal(releaseSockets().length, 1, 'the idle holder listens for release requests');
    // Well within the holder's idle hold (10 s): only a release can make these succeed in time.
    const inTime = <T>(p: Promise<T>, what: string): Promise<T> =>
      Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: the holder did not let go`)), 5000))]);
    // Another connection (its own driver, as another process has) gets the monitor, then so does the first again.
    const other = await root.open();
    await inTime((await other.lookupByName('handover')).resume(), 'second connection');
    assert.equal(releaseSockets().length, 1, 'one holder at a time');
    await inTime(dom.suspend(), 'first connection again');
    // A raw QMP client asking first (driver-helpers' monitorOf) gets it too.
    const qmp = await inTime(monitorOf(root), 'raw client');
    assert.equal((await qmp.execute('query-status')).status, 'paused');
    qmp.close();
    await other.close();
    await dom.destroy();
    assert.equal(existsSync(run), false);
    await dom.undefine();
  });

  test('kill -9 of QEMU: the domain is shut off, reason crashed, with a stopped/failed event', async () => {
    const conn = await root.open();
    const events: DomainEvent[] = [];
    conn.on('lifecycle', (e) => events.push(e));
    const dom = await conn.defineXML(guestDomain(root, 'victim', { kernel: false }));
    await dom.create();
    const [pid] = qemusOf(root.dir);
    process.kill(pid!, 'SIGKILL');
    await waitFor('crash noticed', async () => (await dom.getState()).state === DomainState.SHUTOFF);
    assert.deepEqual(await dom.getState(), { state: DomainState.SHUTOFF, reason: 3 });
    const stopped = await waitFor('stopped event', () => events.find((e) => (e as { event: number }).event === LifecycleEvent.STOPPED));
    assert.equal((stopped as { detail: number }).detail, 5, 'VIR_DOMAIN_EVENT_STOPPED_FAILED');
    assert.deepEqual(readdirSync(join(root.dir, 'run')), []);
    await dom.undefine();
  });

  test('scsi and usb disks unplug without a guest; a virtio disk waits (pending) for a guest that never comes', async () => {
    const conn = await root.open();
    const dom = await conn.defineXML(guestDomain(root, 'noguest', { kernel: false }));
    await dom.create();
    const removed: string[] = [];
    conn.on('device-removed', (e) => removed.push((e as { alias: string }).alias));
    for (const bus of ['scsi', 'usb'] as const) {
      const xml = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${root.img(`${bus}.qcow2`)}'/><target dev='${bus === 'scsi' ? 'sdb' : 'sdc'}' bus='${bus}'/></disk>`;
      const { alias } = await dom.attachDeviceFlags(xml, DeviceModify.LIVE);
      assert.deepEqual(await dom.detachDeviceFlags(xml, DeviceModify.LIVE), { outcome: 'removed', alias });
    }
    assert.deepEqual(removed, ['scsi0-0-0-1', 'usb-disk2']);
    const vd = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${root.img('v.qcow2')}'/><target dev='vdb'/></disk>`;
    await dom.attachDeviceFlags(vd, DeviceModify.LIVE);
    assert.deepEqual(await dom.detachDeviceFlags(vd, DeviceModify.LIVE), { outcome: 'pending', alias: 'virtio-disk1' });
    assert.match(await dom.getXMLDesc(), /virtio-disk1/, 'a pending device stays in the live XML');
    // QEMU was never asked: the request waits for a guest whose ACPI can take it (it would be lost otherwise).
    await conn.close();
    const qmp = await monitorOf(root);
    const ids = (await qmp.execute('qom-list', { path: '/machine/peripheral' })).map((p) => p.name);
    assert.ok(ids.includes('virtio-disk1'));
    qmp.close();
    const again = await root.open();
    const d2 = await again.lookupByName('noguest');
    assert.deepEqual(await d2.detachDeviceFlags(vd, DeviceModify.LIVE), { outcome: 'pending', alias: 'virtio-disk1' }, 'asking again is fine');
    await d2.destroy();
    await d2.undefine();
  });

  test('bad input fails cleanly: QEMU, the host and the definitions are left as they were', async () => {
    const conn = await root.open();
    // A missing image: start fails with QEMU's own words; nothing keeps running.
    const missing = join(root.dir, 'missing.qcow2');
    const dom = await conn.defineXML(guestDomain(root, 'bad', { kernel: false, devices: `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${missing}'/><target dev='vda'/></disk>` }));
    await assert.rejects(dom.create(), (e: unknown) => isVirtError(e) && /missing\.qcow2/.test((e as Error).message));
    assert.equal(await dom.isActive(), false);
    assert.equal(qemusOf(root.dir).length, 0);
    assert.deepEqual(readdirSync(join(root.dir, 'run')), []);
    await dom.undefine();
    // `..` as a name and an unknown bus are refused at define.
    await assert.rejects(conn.defineXML(guestDomain(root, '..', { kernel: false })), (e: unknown) => isVirtError(e, ErrorCode.XML_ERROR));
    await assert.rejects(
      conn.defineXML(guestDomain(root, 'badbus', { kernel: false, devices: `<disk type='file' device='disk'><source file='/x.img'/><target dev='vda' bus='nvme0'/></disk>` })),
      (e: unknown) => isVirtError(e) && /bus/.test((e as Error).message),
    );
    // A path with commas works: QEMU opens exactly that file.
    const comma = root.img('a,b,format=raw.qcow2');
    const ok = await conn.defineXML(guestDomain(root, 'commas', { kernel: false, devices: `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${comma}'/><target dev='vda'/></disk>` }));
    await ok.create();
    const [pid] = qemusOf(root.dir);
    assert.ok(openFiles(pid!).includes(comma), 'QEMU holds the image with commas in its name');
    // Hot-plug failures leave the live XML and QEMU as they were.
    const before = await ok.getXMLDesc();
    const gone = join(root.dir, 'gone.qcow2');
    await assert.rejects(ok.attachDeviceFlags(`<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${gone}'/><target dev='sdb' bus='scsi'/></disk>`, DeviceModify.LIVE), (e: unknown) => isVirtError(e) && /gone\.qcow2/.test((e as Error).message));
    await assert.rejects(ok.attachDeviceFlags(`<disk type='file' device='disk'><source file='${comma}'/><target dev='hdb' bus='ide'/></disk>`, DeviceModify.LIVE), (e: unknown) => isVirtError(e) && /Bus 'ide.0' does not support hotplugging/.test((e as Error).message));
    await assert.rejects(ok.attachDeviceFlags(`<interface type='network'><source network='default'/></interface>`, DeviceModify.LIVE), (e: unknown) => isVirtError(e));
    assert.equal(await ok.getXMLDesc(), before);
    assert.equal(await ok.getXMLDesc(DomainXML.INACTIVE), await (await conn.lookupByName('commas')).getXMLDesc(DomainXML.INACTIVE));
    await conn.close();
    const qmp = await monitorOf(root);
    const nodes = (await qmp.execute('query-named-block-nodes', { flat: true })).map((n) => n['node-name']).filter((n) => /^vk/.test(n)).sort();
    assert.deepEqual(nodes, ['vkf0-virtio-disk0', 'vks0-virtio-disk0'], 'no block node of a failed attach');
    qmp.close();
    assert.ok(!existsSync(gone));
  });
  test('a failed step undoes the earlier ones: taps of a start QEMU refused, a NIC on a missing bridge, a tap name the host has; a path with commas hot-plugs and unplugs', rootOnly, async () => {
    const conn = await root.open();
    const tap = `vkrb${process.pid % 100000}`;
    const hostTap = `vkrh${process.pid % 100000}`;
    try {
      // The tap is made before QEMU starts; QEMU then refuses the missing image: the tap goes again.
      const missing = join(root.dir, 'missing.qcow2');
      const nic = `<interface type='ethernet'><target dev='${tap}'/><model type='virtio'/></interface>`;
      const failing = await conn.defineXML(
        guestDomain(root, 'rollback', { kernel: false, devices: `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${missing}'/><target dev='vda'/></disk>${nic}` }),
      );
      await assert.rejects(failing.create(), (e: unknown) => isVirtError(e) && /missing\.qcow2/.test((e as Error).message));
      assert.ok(!existsSync(`/sys/class/net/${tap}`), 'the tap of the failed start is gone');
      assert.deepEqual(tapsOfDomain(failing.uuid), []);
      assert.equal(qemusOf(root.dir).length, 0);
      assert.deepEqual(readdirSync(join(root.dir, 'run')), []);

      const dom = await conn.defineXML(guestDomain(root, 'plugs', { kernel: false }));
      await dom.create();
      const before = await dom.getXMLDesc();
      // A bridge the host does not have: refused before any tap or netdev exists.
      await assert.rejects(
        dom.attachDeviceFlags(`<interface type='bridge'><source bridge='vknobr${process.pid % 100000}'/><model type='virtio'/></interface>`, DeviceModify.LIVE),
        (e: unknown) => isVirtError(e, ErrorCode.OPERATION_FAILED) && /bridge 'vknobr\d+' does not exist/.test((e as Error).message),
      );
      // A user tap name the host already has: refused, the host's interface left alone.
      execFileSync('ip', ['tuntap', 'add', 'dev', hostTap, 'mode', 'tap']);
      await assert.rejects(
        dom.attachDeviceFlags(`<interface type='ethernet'><target dev='${hostTap}'/><model type='virtio'/></interface>`, DeviceModify.LIVE),
        (e: unknown) => isVirtError(e, ErrorCode.OPERATION_FAILED) && /already exists/.test((e as Error).message),
      );
      assert.ok(existsSync(`/sys/class/net/${hostTap}`), "the host's tap is still there");
      assert.equal(await dom.getXMLDesc(), before);
      assert.deepEqual(tapsOfDomain(dom.uuid), []);
      const qmp = await monitorOf(root);
      const info = await qmp.execute('human-monitor-command', { 'command-line': 'info network' });
      qmp.close();
      assert.doesNotMatch(info, /hostnet/, 'no netdev of a failed attach');

      // A path with commas (QEMU's option separator) hot-plugs as exactly that file, and unplugs without a guest.
      const comma = root.img('x,y,file.driver=raw.qcow2');
      const disk = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${comma}'/><target dev='sdb' bus='scsi'/></disk>`;
      await dom.attachDeviceFlags(disk, DeviceModify.LIVE);
      const [pid] = qemusOf(root.dir);
      assert.ok(openFiles(pid!).includes(comma), 'QEMU opened the file with commas in its name');
      assert.equal((await dom.detachDeviceFlags(disk, DeviceModify.LIVE)).outcome, 'removed');
      assert.ok(!openFiles(pid!).includes(comma), 'and closed it after the unplug');
    } finally {
      for (const name of [tap, hostTap]) if (existsSync(`/sys/class/net/${name}`)) execFileSync('ip', ['link', 'del', 'dev', name]);
    }
  });
  test('state folders starting domains at once never take one tap: the loser of a name plans a new one', rootOnly, async () => {
    const other = qemuRoot('vkq-basic2-');
    try {
      const nic = `<interface type='ethernet'><model type='virtio'/></interface>`;
      const doms = [];
      for (const [i, r] of [root, other, root, other, root, other].entries()) {
        const conn = await r.open();
        doms.push(await conn.defineXML(guestDomain(r, `race${i}`, { kernel: false, devices: nic })));
      }
      // Both folders' counters start at vnet0: every start plans the same names at the same moment.
      await Promise.all(doms.map((d) => d.create()));
      const taps: string[] = [];
      for (const d of doms) {
        const tap = /<target dev='(vnet\d+)'\/>/.exec(await d.getXMLDesc())![1]!;
        assert.equal(readFileSync(`/sys/class/net/${tap}/ifalias`, 'utf8').trim(), `virtkit:${d.uuid}`, `${tap} is ${d.name}'s`);
        taps.push(tap);
      }
      assert.equal(new Set(taps).size, taps.length, String(taps));
    } finally {
      await other.cleanup();
    }
  });
});
