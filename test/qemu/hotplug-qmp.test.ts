/**
 * The QMP hot-plug sequences on one booted test guest (pc): disks on virtio, scsi and usb and NICs appear
 * in the guest and disappear after device_del + DEVICE_DELETED + backend release; failures at any step
 * leave no block node, netdev or tap; CD-ROM media change; ACPI readiness of the guest.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseDomainXml } from '../../src/conf/index.js';
import type { DomainDef } from '../../src/conf/index.js';
import { buildQemuCommand } from '../../src/drivers/qemu/command/build.js';
import { acpiPciHotplugReady, type GpePortCache, gpeCacheFor } from '../../src/drivers/qemu/hotplug/guest-ready.js';
import { peripheralIds, plugDevice, releaseBackends, requestDeviceDel, tapTagFor } from '../../src/drivers/qemu/hotplug/plug.js';
import { changeMedium, setLinkState } from '../../src/drivers/qemu/hotplug/update.js';
import { isolateDevice } from '../../src/drivers/qemu/hotplug/isolate.js';
import { tapsTagged } from '../../src/drivers/qemu/host/tap.js';
import { liveDefinition } from '../../src/drivers/qemu/live-def.js';
import { launchQemu, type Launched } from '../../src/drivers/qemu/process/launch.js';
import { QmpClient } from '../../src/drivers/qemu/qmp/client.js';
import { isVirtError, xml } from '../../src/index.js';
import { privateDir, qemuTestOptions, SerialLog, spawnQemu, testGuest } from './helpers.js';

const opts = qemuTestOptions();
const isRoot = process.getuid?.() === 0;
const tapTag = tapTagFor('00000000-0000-4000-8000-00000000c0de');

/** `qmp`, noting the name of every command sent through it in `sent`. */
function counted(qmp: QmpClient, sent: string[]): QmpClient {
  const execute = qmp.execute.bind(qmp) as (cmd: string, args?: unknown) => Promise<unknown>;
  return {
    execute: (cmd: string, args?: unknown) => {
      sent.push(cmd);
      return execute(cmd, args);
    },
  } as unknown as QmpClient;
}

async function stop(vm: Launched | undefined): Promise<void> {
  if (!vm) return;
  vm.qmp.close();
  if (vm.child.exitCode === null && vm.child.signalCode === null) {
    vm.child.ref();
    const gone = new Promise((r) => vm.child.once('exit', r));
    process.kill(vm.pid, 'SIGKILL');
    await gone;
  }
}

async function vkNodes(qmp: QmpClient): Promise<string[]> {
  return (await qmp.execute('query-named-block-nodes', { flat: true })).map((n) => n['node-name']).filter((n) => /^vk[fs]\d+-/.test(n)).sort();
}

async function netdevs(qmp: QmpClient): Promise<string[]> {
  const text = await qmp.execute('human-monitor-command', { 'command-line': 'info network' });
  return [...text.matchAll(/(host\S+): index=/g)].map((m) => m[1]!).sort();
}

describe('hot-plug sequences on a booted guest', opts, () => {
  const dir = privateDir('vk-hp-');
  let vm: Launched | undefined;
  let def: DomainDef;
  let serial: SerialLog;
  const img = (name: string, size: string, format = 'qcow2'): string => {
    const p = join(dir, name);
    execFileSync('qemu-img', ['create', '-q', '-f', format, p, size]);
    return p;
  };
  const add = (text: string) => {
    const e = xml.parseXml(text);
    def.addDevice(e);
    return e;
  };
  /** device_del, DEVICE_DELETED, release: what a completed detach does. */
  async function unplug(dev: xml.XmlElement, alias: string): Promise<number> {
    const started = Date.now();
    const deleted = vm!.qmp.waitForEvent((e) => e.event === 'DEVICE_DELETED' && e.data?.device === alias, { timeoutMs: 30_000 });
    assert.equal(await requestDeviceDel(vm!.qmp, alias), 'sent');
    assert.ok(await deleted, `DEVICE_DELETED ${alias}`);
    await releaseBackends(vm!.qmp, dev);
    def.removeDevice(dev);
    return Date.now() - started;
  }

  before(async () => {
    const guest = testGuest();
    const log = join(dir, 'serial.log');
    def = liveDefinition(
      parseDomainXml(`<domain type='qemu'><name>hp</name><memory unit='MiB'>192</memory>
      <os><type machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
      <features><acpi/></features><devices>
      <controller type='scsi' model='virtio-scsi'/><controller type='usb' model='qemu-xhci'/>
      <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>
      <serial type='file'><source path='${log}'/></serial><memballoon model='none'/></devices></domain>`),
      5,
      { domid: 5, allocTap: (p) => `${p}x`, allocDevid: () => 0 },
    );
    const mon = join(dir, 'monitor.sock');
    vm = await launchQemu(buildQemuCommand(def, { monitorPath: mon, accel: 'tcg' }), { monitorPath: mon, logPath: join(dir, 'qemu.log') });
    // Before the guest runs, its ACPI has no PCI hot-plug: an unplug sent now would be lost.
    assert.equal(await acpiPciHotplugReady(vm.qmp), false);
    await vm.qmp.execute('cont');
    serial = new SerialLog(log);
    await serial.waitFor(/VIRTKIT_GUEST_READY/, 120_000);
  });
  after(async () => {
    await stop(vm);
    execFileSync('rm', ['-rf', dir]);
  });

  test('the booted guest handles ACPI PCI hot-plug', async () => {
    assert.equal(await acpiPciHotplugReady(vm!.qmp), true);
  });

  test("with a cache, PIIX4's fixed GPE block is read with one command after the first probe; another QEMU starts afresh", async () => {
    const sent: string[] = [];
    const counting = counted(vm!.qmp, sent);
    const cache: GpePortCache = gpeCacheFor({}, 'qemu-1');
    assert.equal(await acpiPciHotplugReady(counting, cache), true);
    assert.deepEqual([cache.port, cache.fixed], [0xafe2, true]);
    sent.length = 0;
    assert.equal(await acpiPciHotplugReady(counting, cache), true);
    assert.deepEqual(sent, ['human-monitor-command']);
    assert.equal(gpeCacheFor(cache, 'qemu-1').fixed, true);
    assert.deepEqual([gpeCacheFor(cache, 'qemu-2').port, cache.fixed], [undefined, undefined]);
  });

  test('virtio, scsi and usb disks appear in the guest and disappear after unplug; their nodes go', async () => {
    const cases = [
      { xml: `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img('v.qcow2', '21M')}'/><target dev='vdb' bus='virtio'/><alias name='virtio-disk1'/><address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0'/></disk>`, alias: 'virtio-disk1', guest: /blk vda 43008/ },
      { xml: `<disk type='file' device='disk'><source file='${img('s.raw', '22M', 'raw')}'/><target dev='sdb' bus='scsi'/><alias name='scsi0-0-0-1'/><address type='drive' controller='0' bus='0' target='0' unit='1'/></disk>`, alias: 'scsi0-0-0-1', guest: /blk sd\w 45056/ },
      { xml: `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img('u.qcow2', '23M')}'/><target dev='sdc' bus='usb'/><alias name='usb-disk2'/><address type='usb' bus='0' port='1'/></disk>`, alias: 'usb-disk2', guest: /blk sd\w 47104/ },
    ];
    for (const c of cases) {
      serial.mark();
      const dev = add(c.xml);
      await plugDevice(vm!.qmp, def, dev, { tapTag });
      assert.ok((await peripheralIds(vm!.qmp)).has(c.alias));
      const seen = await serial.waitFor(new RegExp(`VIRTKIT_GUEST \\+ ${c.guest.source}`), 60_000);
      const name = / blk (\w+) /.exec(seen[0])![1];
      const ms = await unplug(dev, c.alias);
      await serial.waitFor(new RegExp(`VIRTKIT_GUEST - blk ${name} `), 60_000);
      assert.ok(!(await peripheralIds(vm!.qmp)).has(c.alias));
      assert.deepEqual(await vkNodes(vm!.qmp), [], `${c.alias}: no block node left (unplug took ${ms} ms)`);
    }
  });

  test('the release of a disk whose nodes are not generation 0\'s (isolated: a null storage node) finds them and leaves none', async () => {
    serial.mark();
    const dev = add(`<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img('i.qcow2', '24M')}'/><target dev='sdd' bus='scsi'/><alias name='scsi0-0-0-3'/><address type='drive' controller='0' bus='0' target='0' unit='3'/></disk>`);
    await plugDevice(vm!.qmp, def, dev, { tapTag });
    await serial.waitFor(/VIRTKIT_GUEST \+ blk sd\w 49152/, 60_000);
    await isolateDevice(vm!.qmp, dev);
    assert.deepEqual(await vkNodes(vm!.qmp), ['vkf0-scsi0-0-0-3', 'vks2-scsi0-0-0-3']);
    await unplug(dev, 'scsi0-0-0-3');
    assert.deepEqual(await vkNodes(vm!.qmp), []);
  });

  test('a virtio NIC with link down appears, link comes up, then it is unplugged with its netdev', async () => {
    serial.mark();
    const nic = add(`<interface type='user'><mac address='52:54:00:dd:00:01'/><model type='virtio'/><link state='down'/><alias name='net1'/><address type='pci' domain='0x0000' bus='0x00' slot='0x0b' function='0x0'/></interface>`);
    await plugDevice(vm!.qmp, def, nic, { tapTag });
    await serial.waitFor(/VIRTKIT_GUEST \+ net eth\d 52:54:00:dd:00:01/, 60_000);
    assert.deepEqual(await netdevs(vm!.qmp), ['hostnet1']);
    await setLinkState(vm!.qmp, 'net1', true);
    await unplug(nic, 'net1');
    await serial.waitFor(/VIRTKIT_GUEST - net eth\d 52:54:00:dd:00:01/, 60_000);
    assert.deepEqual(await netdevs(vm!.qmp), []);
  });

  test('failures leave no block node: missing image, then a device_add QEMU refuses (PCI slot taken)', async () => {
    const missing = add(`<disk type='file' device='disk'><source file='${join(dir, 'missing.raw')}'/><target dev='vdc' bus='virtio'/><alias name='virtio-disk2'/><address type='pci' domain='0x0000' bus='0x00' slot='0x0c' function='0x0'/></disk>`);
    await assert.rejects(plugDevice(vm!.qmp, def, missing, { tapTag }), (e: unknown) => isVirtError(e) && /missing\.raw/.test((e as Error).message));
    def.removeDevice(missing);
    // Slot 1 is PIIX3's: blockdev-add succeeds, device_add fails, the nodes must go again.
    const clash = add(`<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img('c.qcow2', '8M')}'/><target dev='vdd' bus='virtio'/><alias name='virtio-disk3'/><address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/></disk>`);
    await assert.rejects(plugDevice(vm!.qmp, def, clash, { tapTag }), (e: unknown) => isVirtError(e) && /device_add/.test((e as Error).message));
    def.removeDevice(clash);
    assert.deepEqual(await vkNodes(vm!.qmp), []);
    assert.ok(!(await peripheralIds(vm!.qmp)).has('virtio-disk3'));
  });

  test('a NIC whose device_add fails leaves no netdev and no tap', { skip: isRoot || process.env.CI ? undefined : 'needs root for the tap' }, async () => {
    const tap = `vkhp${process.pid % 10000}`;
    const nic = add(`<interface type='ethernet'><mac address='52:54:00:dd:00:02'/><target dev='${tap}'/><model type='virtio'/><alias name='net2'/><address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/></interface>`);
    await assert.rejects(plugDevice(vm!.qmp, def, nic, { tapTag }), (e: unknown) => isVirtError(e) && /device_add/.test((e as Error).message));
    def.removeDevice(nic);
    assert.deepEqual(await netdevs(vm!.qmp), []);
    assert.ok(!existsSync(`/sys/class/net/${tap}`));
    assert.deepEqual(tapsTagged(tapTag), []);
  });

  test('an ethernet NIC gets its tap (tagged with the domain), QEMU opens it; unplug removes both', { skip: isRoot || process.env.CI ? undefined : 'needs root for the tap' }, async () => {
    const tap = `vkhq${process.pid % 10000}`;
    serial.mark();
    const nic = add(`<interface type='ethernet'><mac address='52:54:00:dd:00:03'/><target dev='${tap}'/><model type='virtio'/><alias name='net3'/><address type='pci' domain='0x0000' bus='0x00' slot='0x0d' function='0x0'/></interface>`);
    await plugDevice(vm!.qmp, def, nic, { tapTag });
    assert.deepEqual(tapsTagged(tapTag), [tap]);
    await serial.waitFor(/VIRTKIT_GUEST \+ net eth\d 52:54:00:dd:00:03/, 60_000);
    await unplug(nic, 'net3');
    assert.ok(!existsSync(`/sys/class/net/${tap}`));
    assert.deepEqual(await netdevs(vm!.qmp), []);
  });

  test('CD-ROM: insert, change and eject a medium; only the current medium has nodes', async () => {
    const drive = def.elementsNamed('disk').find((d) => d.attr('device') === 'cdrom')!;
    const withMedium = (file: string | undefined) => {
      const e = drive.clone();
      e.removeChildren('source');
      if (file) e.children.splice(0, 0, xml.parseXml(`<source file='${file}'/>`));
      return e;
    };
    const iso1 = img('cd1.raw', '1M', 'raw');
    const iso2 = img('cd2.raw', '2M', 'raw');
    let current = drive;
    for (const [file, index] of [[iso1, 0], [iso2, 1], [undefined, 0]] as const) {
      const next = withMedium(file);
      await changeMedium(vm!.qmp, current, next);
      current = next;
      const info = (await vm!.qmp.execute('query-block')).find((b) => b.qdev?.includes('ide0-1-0'));
      assert.equal(info?.inserted?.file, file);
      // Each medium alternates the generation of the node names; the old medium's nodes are gone.
      assert.deepEqual(await vkNodes(vm!.qmp), file ? [`vkf${index % 2}-ide0-1-0`, `vks${index % 2}-ide0-1-0`] : []);
    }
    // A medium that cannot be opened leaves the drive as it was.
    const ok = withMedium(iso1);
    await changeMedium(vm!.qmp, current, ok);
    await assert.rejects(changeMedium(vm!.qmp, ok, withMedium(join(dir, 'nope.iso'))), /nope\.iso/);
    assert.equal((await vm!.qmp.execute('query-block')).find((b) => b.qdev?.includes('ide0-1-0'))?.inserted?.file, iso1);
    assert.deepEqual(await vkNodes(vm!.qmp), ['vkf0-ide0-1-0', 'vks0-ide0-1-0']);
  });
});

describe('ACPI readiness on q35', opts, () => {
  test('the GPE block follows PMBASE: never taken as fixed, read with its address every time', async () => {
    // No kernel: SeaBIOS programs PMBASE, no OS enables the hot-plug GPE.
    const vm = spawnQemu(['-machine', 'q35', '-accel', 'tcg', '-S']);
    const qmp = await QmpClient.connect(vm.monitor, { timeoutMs: 10_000 });
    try {
      const cache: GpePortCache = {};
      // Before the firmware runs, the block is not mapped yet.
      assert.equal(await acpiPciHotplugReady(qmp, cache), false);
      await qmp.execute('cont');
      const deadline = Date.now() + 30_000;
      while (cache.port === undefined && Date.now() < deadline) {
        assert.equal(await acpiPciHotplugReady(qmp, cache), false);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(cache.fixed, false);
      const sent: string[] = [];
      const counting = counted(qmp, sent);
      assert.equal(await acpiPciHotplugReady(counting, cache), false);
      assert.deepEqual(sent.sort(), ['human-monitor-command', 'qom-get', 'qom-get']);
    } finally {
      qmp.close();
      await vm.kill();
    }
  });
});
