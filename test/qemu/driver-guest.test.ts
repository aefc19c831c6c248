/**
 * qemu:///session on one booted test guest (pc, TCG), checked from inside the guest through its
 * serial console: the founding scenario with real taps, disks on virtio/scsi/usb, link state,
 * a paused guest's pending unplug, a process killed in the middle of a hot-plug, ACPI shutdown.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, DeviceModify, type Domain, type DomainEvent, DomainState, DomainXML, LifecycleEvent, xml } from '../../src/index.js';
import { guestDomain, monitorOf, qemuRoot, qemusOf, runNode, type QemuRoot, tapsOf } from './driver-helpers.js';
import { qemuTestOptions, SerialLog } from './helpers.js';

const opts = qemuTestOptions();
const isRoot = process.getuid?.() === 0;
// In CI (root) these run; a CI without root fails them loudly rather than skipping.
const rootOnly = { skip: isRoot || process.env.CI ? undefined : 'needs root (taps)' };

function devices(domainXml: string, name: string): xml.XmlElement[] {
  return xml.parseXml(domainXml).child('devices')?.elements(name) ?? [];
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The vnet number the driver of a state folder hands out next (its counters in driver.json). */
function nextTapNumber(dir: string): number {
  const file = execFileSync('find', [dir, '-name', 'driver.json'], { encoding: 'utf8' }).trim().split('\n')[0]!;
  const state = JSON.parse(readFileSync(file, 'utf8')) as { taps?: { vnet?: number } };
  return state.taps?.vnet ?? 0;
}

describe('qemu:///session with a booted guest', opts, () => {
  let root: QemuRoot;
  let conn: Connection;
  let dom: Domain;
  let serial: SerialLog;
  const events: DomainEvent[] = [];
  const bridge = `vkbr${process.pid % 100000}`;

  before(async () => {
    root = qemuRoot('vkq-guest-', '&unplugTimeout=20000');
    if (isRoot) execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    conn = await root.open();
    conn.on('lifecycle', (e) => events.push(e));
    conn.on('device-removed', (e) => events.push(e));
    dom = await conn.defineXML(
      guestDomain(root, 'guest', { devices: `<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>` }),
    );
    await dom.create();
    serial = new SerialLog(join(root.dir, 'guest.serial'));
    await serial.waitFor(/VIRTKIT_GUEST_READY/, 180_000);
  });
  after(async () => {
    await root.cleanup();
    if (isRoot && existsSync(`/sys/class/net/${bridge}`)) execFileSync('ip', ['link', 'del', bridge]);
  });

  test('founding scenario: NICs without a target get vnetN taps on the host; the dumped XML detaches exactly one', rootOnly, async () => {
    const nic = `<interface type='ethernet'><model type='virtio'/></interface>`;
    serial.mark();
    const a = await dom.attachDeviceFlags(nic, DeviceModify.LIVE);
    const b = await dom.attachDeviceFlags(nic, DeviceModify.LIVE);
    assert.deepEqual([a.alias, b.alias], ['net0', 'net1']);
    const nics = devices(await dom.getXMLDesc(), 'interface');
    const taps = nics.map((n) => n.child('target')?.attr('dev') ?? '');
    const macs = nics.map((n) => n.child('mac')?.attr('address') ?? '');
    assert.ok(taps.every((t) => /^vnet\d+$/.test(t)), String(taps));
    for (const [i, tap] of taps.entries()) {
      assert.ok(existsSync(`/sys/class/net/${tap}`), `${tap} exists on the host`);
      assert.equal(readFileSync(`/sys/class/net/${tap}/address`, 'utf8').trim(), `fe${macs[i]!.slice(2)}`);
      assert.equal(readFileSync(`/sys/class/net/${tap}/carrier`, 'utf8').trim(), '1', 'QEMU holds the tap');
      await serial.waitFor(new RegExp(`VIRTKIT_GUEST \\+ net eth\\d ${macs[i]}`), 90_000);
    }
    // The config never sees runtime names.
    assert.doesNotMatch(await dom.getXMLDesc(DomainXML.INACTIVE), /vnet|<interface/);
    serial.mark();
    const result = await dom.detachDevice(xml.serializeXml(nics[0]!));
    assert.deepEqual(result, { outcome: 'removed', alias: 'net0' });
    assert.ok(!existsSync(`/sys/class/net/${taps[0]}`), 'the tap went with the NIC');
    assert.ok(existsSync(`/sys/class/net/${taps[1]}`));
    await serial.waitFor(new RegExp(`VIRTKIT_GUEST - net eth\\d ${macs[0]}`), 90_000);
    const left = devices(await dom.getXMLDesc(), 'interface');
    assert.deepEqual(left.map((n) => n.child('mac')?.attr('address')), [macs[1]]);
  });

  test('a bridge NIC: its tap is enslaved to the bridge (stepping over a vnet name the host has); detach by alias completes with device-removed', rootOnly, async () => {
    // The next vnet name of the driver's counter is taken on the host already: allocation steps over it, as libvirt's.
    const next = `vnet${nextTapNumber(root.dir)}`;
    const ours = !existsSync(`/sys/class/net/${next}`);
    if (ours) execFileSync('ip', ['tuntap', 'add', 'dev', next, 'mode', 'tap']);
    const { alias } = await dom.attachDeviceFlags(`<interface type='bridge'><source bridge='${bridge}'/><model type='virtio'/></interface>`, DeviceModify.LIVE);
    const nic = devices(await dom.getXMLDesc(), 'interface').find((n) => n.child('alias')?.attr('name') === alias)!;
    const tap = nic.child('target')!.attr('dev')!;
    if (ours) execFileSync('ip', ['link', 'del', next]);
    assert.notEqual(tap, next);
    assert.match(readFileSync(`/sys/class/net/${tap}/master/uevent`, 'utf8'), new RegExp(`INTERFACE=${bridge}\\b`));
    await serial.waitFor(new RegExp(`VIRTKIT_GUEST \\+ net eth\\d ${nic.child('mac')!.attr('address')}`), 90_000);
    const r = await dom.detachDeviceAlias(alias!);
    assert.equal(r.alias, alias);
    await waitFor('device-removed', () => events.some((e) => e.type === 'device-removed' && (e as { alias: string }).alias === alias));
    await waitFor('tap removed', () => !existsSync(`/sys/class/net/${tap}`));
  });

  test("link state: the guest sees the carrier go down and up (updateDeviceFlags)", async () => {
    const mac = '52:54:00:7e:00:01';
    await dom.attachDeviceFlags(`<interface type='user'><mac address='${mac}'/><model type='virtio'/></interface>`, DeviceModify.LIVE);
    await serial.waitFor(new RegExp(`VIRTKIT_GUEST \\+ net eth\\d ${mac} up`), 90_000);
    await dom.updateDeviceFlags(`<interface type='user'><mac address='${mac}'/><model type='virtio'/><link state='down'/></interface>`, DeviceModify.LIVE);
    await serial.waitFor(new RegExp(`VIRTKIT_GUEST \\+ net eth\\d ${mac} down`), 60_000);
    assert.match(await dom.getXMLDesc(), /<link state='down'\/>/);
    await dom.updateDeviceFlags(`<interface type='user'><mac address='${mac}'/><model type='virtio'/><link state='up'/></interface>`, DeviceModify.LIVE);
    await serial.waitFor(new RegExp(`VIRTKIT_GUEST \\+ net eth\\d ${mac} up`), 60_000);
    assert.equal((await dom.detachDevice(`<interface type='user'><mac address='${mac}'/></interface>`)).outcome, 'removed');
  });

  test('disks on virtio, scsi and usb appear in the guest and disappear on detach', async () => {
    const cases = [
      { target: 'vdb', bus: 'virtio', size: '21M', sectors: 43008 },
      { target: 'sdb', bus: 'scsi', size: '22M', sectors: 45056 },
      { target: 'sdc', bus: 'usb', size: '23M', sectors: 47104 },
    ];
    for (const c of cases) {
      const disk = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${root.img(`${c.target}.qcow2`, c.size)}'/><target dev='${c.target}' bus='${c.bus}'/></disk>`;
      serial.mark();
      await dom.attachDeviceFlags(disk, DeviceModify.LIVE);
      const seen = await serial.waitFor(new RegExp(`VIRTKIT_GUEST \\+ blk (\\w+) ${c.sectors}`), 90_000);
      const r = await dom.detachDeviceFlags(disk, DeviceModify.LIVE);
      assert.equal(r.outcome, 'removed', `${c.bus} disk`);
      await serial.waitFor(new RegExp(`VIRTKIT_GUEST - blk ${seen[1]} ${c.sectors}`), 90_000);
    }
    // 'removed' comes after the backends went (released on DEVICE_DELETED, joined before the commit).
    const qmp = await monitorOf(root);
    try {
      const nodes = (await qmp.execute('query-named-block-nodes', { flat: true })).map((n) => n['node-name']);
      assert.deepEqual(nodes.filter((n) => /^vk[fs]\d+-/.test(n) && !n.includes('ide')), []);
    } finally {
      qmp.close();
    }
  });

  test('CD-ROM: media inserted, changed and ejected with updateDeviceFlags', async () => {
    const cd = (file?: string) =>
      `<disk type='file' device='cdrom'>${file ? `<source file='${file}'/>` : ''}<target dev='hdc' bus='ide'/><readonly/></disk>`;
    const iso = root.img('cd.raw', '4M', 'raw');
    await dom.updateDeviceFlags(cd(iso), DeviceModify.LIVE);
    assert.match(await dom.getXMLDesc(), new RegExp(`<source file='${iso}'/>`));
    await dom.updateDeviceFlags(cd(), DeviceModify.LIVE);
    assert.doesNotMatch(await dom.getXMLDesc(), /cd\.raw/);
  });

  test('a paused guest: detach is pending; after resume the guest answers and device-removed arrives', async () => {
    const disk = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${root.img('p.qcow2', '25M')}'/><target dev='vdd'/></disk>`;
    serial.mark();
    const { alias } = await dom.attachDeviceFlags(disk, DeviceModify.LIVE);
    await serial.waitFor(/VIRTKIT_GUEST \+ blk \w+ 51200/, 90_000);
    await dom.suspend();
    const quick = await (await root.open()).lookupByName('guest');
    // A short wait on a second connection: the guest is paused, it cannot answer.
    const c2 = await (await import('../../src/index.js')).Connection.open(`${root.uri.replace('unplugTimeout=20000', 'unplugTimeout=300')}`);
    const d2 = await c2.lookupByName('guest');
    assert.deepEqual(await d2.detachDeviceFlags(disk, DeviceModify.LIVE), { outcome: 'pending', alias });
    await c2.close();
    assert.match(await quick.getXMLDesc(), new RegExp(`<alias name='${alias}'/>`), 'still in the live XML while pending');
    await dom.resume();
    await waitFor('device-removed after resume', () => events.some((e) => e.type === 'device-removed' && (e as { alias: string }).alias === alias), 90_000);
    assert.doesNotMatch(await dom.getXMLDesc(), new RegExp(`<alias name='${alias}'/>`));
    await serial.waitFor(/VIRTKIT_GUEST - blk \w+ 51200/, 90_000);
  });

  test('a process killed in the middle of a hot-plug: the next one puts QEMU and the host back to the committed state', rootOnly, async () => {
    const script = (device: string) => `
      import { Connection, DeviceModify } from './src/index.ts';
      const c = await Connection.open(${JSON.stringify(root.uri)});
      const d = await c.lookupByName('guest');
      await d.attachDeviceFlags(${JSON.stringify(device)}, DeviceModify.LIVE);
      console.log('attach finished: the crash point was not reached');`;
    const before = await dom.getXMLDesc();
    const liveAliases = new Set(xml.parseXml(before).child('devices')!.elements().map((e) => e.child('alias')?.attr('name')).filter((a): a is string => a !== undefined));
    const tapsBefore = tapsOf(root.dir).sort();
    const nic = `<interface type='ethernet'><mac address='52:54:00:7e:00:09'/><model type='virtio'/></interface>`;
    const scsi = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${root.img('k.qcow2')}'/><target dev='sde' bus='scsi'/></disk>`;
    for (const [point, device] of [['qemu-device-added', nic], ['qemu-backend-added', scsi], ['qemu-device-added', scsi]] as const) {
      const killed = await runNode(script(device), { VIRTKIT_CRASH_AT: point });
      assert.equal(killed.signal, 'SIGKILL', `${point}: ${killed.out}`);
      // A new connection (as a new process would) reconciles: the uncommitted device and its backends go.
      let state = 'live XML differs';
      await waitFor(`${point}: QEMU back to the committed state`, async () => {
        const c = await root.open();
        const xmlNow = await (await c.lookupByName('guest')).getXMLDesc();
        await c.close();
        if (xmlNow !== before) {
          state = xmlNow;
          return false;
        }
        const qmp = await monitorOf(root);
        try {
          const ids = (await qmp.execute('qom-list', { path: '/machine/peripheral' })).filter((p) => p.type.startsWith('child<')).map((p) => p.name);
          const nodes = (await qmp.execute('query-named-block-nodes', { flat: true })).map((n) => n['node-name']);
          const net = await qmp.execute('human-monitor-command', { 'command-line': 'info network' });
          const netdevs = [...net.matchAll(/(host\S+): index=/g)].map((m) => m[1]);
          const clean =
            ids.every((i) => liveAliases.has(i)) &&
            nodes.filter((n) => /^vk[fs]\d/.test(n)).every((n) => liveAliases.has(n.slice(5))) &&
            netdevs.every((n) => liveAliases.has(n!.slice(4)));
          state = JSON.stringify({ ids, nodes, netdevs, taps: tapsOf(root.dir), tapsBefore });
          return clean && tapsOf(root.dir).sort().join() === tapsBefore.join();
        } finally {
          qmp.close();
        }
      }, 90_000).catch((e: Error) => {
        throw new Error(`${e.message}: ${state}`);
      });
    }
    assert.equal(await dom.getXMLDesc(), before);
  });

  test('ACPI shutdown: the guest powers off, the domain is shut off (shutdown) and its taps are gone', async () => {
    const nicTaps = devices(await dom.getXMLDesc(), 'interface').map((n) => n.child('target')?.attr('dev')).filter(Boolean);
    await dom.shutdown();
    await waitFor('shut off', async () => (await dom.getState()).state === DomainState.SHUTOFF, 120_000);
    assert.deepEqual(await dom.getState(), { state: DomainState.SHUTOFF, reason: 1 });
    // The process that notices the exit first commits it; another connection hears of it through the state folder's event log.
    const stopped = await waitFor(
      'the stopped event',
      () => events.find((e) => e.type === 'lifecycle' && (e as { event: number }).event === LifecycleEvent.STOPPED),
      5000,
    ).catch((err: Error) => {
      const log = execFileSync('find', [root.dir, '-name', 'events.jsonl', '-exec', 'tail', '-n', '4', '{}', ';'], { encoding: 'utf8' });
      throw new Error(`${err.message}; events here ${JSON.stringify(events.slice(-3))}; log ${log}`);
    });
    assert.equal((stopped as { detail: number }).detail, 0, 'VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN');
    assert.match(serial.text(), /VIRTKIT_GUEST_POWEROFF/);
    assert.equal(qemusOf(root.dir).length, 0);
    for (const t of nicTaps) assert.ok(!existsSync(`/sys/class/net/${t}`), `${t} removed`);
  });
});
