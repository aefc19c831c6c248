/**
 * The argv QEMU gets from a domain XML, run by a real QEMU: the devices exist with the libvirt aliases
 * as ids at the PCI addresses of the definition, paths with commas open, taps attach, and a booted
 * test guest sees the disks and NICs.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseDomainXml } from '../../src/conf/index.js';
import { buildQemuCommand, type QemuCommand } from '../../src/drivers/qemu/command/build.js';
import { removeTap, setUpTap } from '../../src/drivers/qemu/host/tap.js';
import { liveDefinition } from '../../src/drivers/qemu/live-def.js';
import { launchQemu, type Launched } from '../../src/drivers/qemu/process/launch.js';
import { loggedShutdownCause } from '../../src/drivers/qemu/process/exit-reason.js';
import { ErrorCode, isVirtError } from '../../src/index.js';
import { privateDir, qemuTestOptions, SerialLog, testGuest } from './helpers.js';

const opts = qemuTestOptions();
const isRoot = process.getuid?.() === 0;

function liveOf(xml: string, tapBase = 0) {
  let n = tapBase;
  return liveDefinition(parseDomainXml(xml), 3, { domid: 3, allocTap: (p) => `${p}${n++}`, allocDevid: () => 0 });
}

async function start(dir: string, cmd: QemuCommand): Promise<Launched> {
  return launchQemu(cmd, { monitorPath: join(dir, 'monitor.sock'), logPath: join(dir, 'qemu.log') });
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

function img(dir: string, name: string, size: string, format = 'raw'): string {
  const path = join(dir, name);
  execFileSync('qemu-img', ['create', '-q', '-f', format, path, size]);
  return path;
}

describe('argv on a real QEMU', opts, () => {
  const dir = privateDir('vk-argv,');
  const vms: Launched[] = [];
  after(async () => {
    for (const vm of vms) await stop(vm);
    execFileSync('rm', ['-rf', dir]);
  });

  for (const machine of (process.env.ONLY_MACHINE ?? 'pc,q35').split(',')) {
    test(`${machine}: every device exists with its alias as id, at its PCI address; a path with commas opens`, async () => {
      const qcow = img(dir, `a,b-${machine}.qcow2`, '64M', 'qcow2');
      const raw = img(dir, `s-${machine}.raw`, '32M');
      const usb = img(dir, `u-${machine}.raw`, '16M');
      const cdBus = machine === 'q35' ? "dev='sdc' bus='sata'" : "dev='hdc' bus='ide'";
      const live = liveOf(`<domain type='qemu'><name>argv-${machine}</name><memory unit='MiB'>128</memory>
        <os><type machine='${machine}'>hvm</type></os><features><acpi/></features><devices>
        <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${qcow}'/><target dev='vda'/></disk>
        <disk type='file' device='disk'><source file='${raw}'/><target dev='sda' bus='scsi'/></disk>
        <disk type='file' device='disk'><source file='${usb}'/><target dev='sdb' bus='usb'/></disk>
        <disk type='file' device='cdrom'><target ${cdBus}/></disk>
        <controller type='scsi' model='virtio-scsi'/><controller type='usb' model='qemu-xhci'/>
        <interface type='user'><mac address='52:54:00:aa:00:01'/><model type='virtio'/></interface>
        <serial type='pty'/>
        </devices></domain>`);
      const vm = await start(dir, buildQemuCommand(live, { monitorPath: join(dir, 'monitor.sock'), accel: 'tcg' }));
      vms.push(vm);
      assert.equal(statSync(join(dir, 'monitor.sock')).mode & 0o777, 0o600);
      const ids = (await vm.qmp.execute('qom-list', { path: '/machine/peripheral' })).map((p) => p.name);
      for (const dev of live.deviceElements()) {
        const alias = dev.child('alias')?.attr('name');
        const builtIn = ['pci.0', 'pcie.0', 'ide', 'serial0', 'balloon0', 'input0', 'input1'].includes(alias ?? '') || dev.name === 'audio';
        if (alias && !builtIn && dev.name !== 'input') assert.ok(ids.includes(alias), `${alias} in ${ids.join(' ')}`);
      }
      const blocks = await vm.qmp.execute('query-block');
      assert.equal(blocks.find((b) => b.qdev?.includes('virtio-disk0'))?.inserted?.file, qcow);
      // PCI addresses in QEMU are those of the definition (devfn = slot << 3 | function).
      let checked = 0;
      for (const dev of live.deviceElements()) {
        const a = dev.child('address');
        const alias = dev.child('alias')?.attr('name');
        if (a?.attr('type') !== 'pci' || !alias || !ids.includes(alias)) continue;
        const devfn = await vm.qmp.execute('qom-get', { path: `/machine/peripheral/${alias}`, property: 'addr' });
        assert.equal(devfn, (Number(a.attr('slot')) << 3) | Number(a.attr('function')), `${alias} addr`);
        checked++;
      }
      assert.ok(checked >= 4, `checked ${checked} PCI devices`);
      const chardevs = await vm.qmp.execute('query-chardev');
      assert.match(chardevs.find((c) => c.label === 'charserial0')?.filename ?? '', /^pty:\/dev\/pts\/\d+$/);
      await vm.qmp.execute('quit');
    });
  }

  test('QEMU refusing to start is an error carrying its own message; nothing keeps running', async () => {
    const live = liveOf(`<domain type='qemu'><name>bad</name><memory unit='MiB'>64</memory><devices>
      <disk type='file' device='disk'><source file='${join(dir, 'missing.img')}'/><target dev='vda'/></disk></devices></domain>`);
    const cmd = buildQemuCommand(live, { monitorPath: join(dir, 'bad.sock'), accel: 'tcg' });
    await assert.rejects(launchQemu(cmd, { monitorPath: join(dir, 'bad.sock'), logPath: join(dir, 'bad.log') }), (e: unknown) => {
      assert.ok(isVirtError(e, ErrorCode.INTERNAL_ERROR), String(e));
      assert.match((e as Error).message, /QEMU exited while starting \(status 1\): .*missing\.img.*No such file or directory/s);
      return true;
    });
  });
});

describe('taps for ethernet and bridge interfaces', { ...opts, skip: opts.skip ?? (isRoot || process.env.CI ? undefined : 'needs root (CAP_NET_ADMIN)') }, () => {
  const dir = privateDir('vk-tap-');
  const bridge = `vkbrt${process.pid % 100000}`;
  let vm: Launched | undefined;
  const taps: string[] = [];
  before(() => {
    execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
  });
  after(async () => {
    await stop(vm);
    for (const t of taps) await removeTap({ name: t, managed: true });
    execFileSync('ip', ['link', 'del', bridge]);
    execFileSync('rm', ['-rf', dir]);
  });

  test('virtkit creates the taps, QEMU opens them by name, the bridge one is enslaved; removal leaves nothing', async () => {
    const base = 9000 + (process.pid % 900);
    const live = liveOf(`<domain type='qemu'><name>taps</name><memory unit='MiB'>64</memory><devices>
      <interface type='ethernet'><mac address='52:54:00:bb:00:01'/><model type='virtio'/></interface>
      <interface type='bridge'><mac address='52:54:00:bb:00:02'/><source bridge='${bridge}'/><model type='virtio'/></interface>
      </devices></domain>`, base);
    const cmd = buildQemuCommand(live, { monitorPath: join(dir, 'monitor.sock'), accel: 'tcg' });
    assert.deepEqual(cmd.taps.map((t) => t.name), [`vnet${base}`, `vnet${base + 1}`]);
    for (const t of cmd.taps) {
      taps.push(t.name);
      await setUpTap(t);
    }
    const [eth, br] = cmd.taps.map((t) => `/sys/class/net/${t.name}`);
    assert.equal(readFileSync(`${eth}/address`, 'utf8').trim(), 'fe:54:00:bb:00:01');
    assert.ok(existsSync(`${br}/master`), 'enslaved to the bridge');
    assert.match(readFileSync(`${br}/master/uevent`, 'utf8'), new RegExp(`INTERFACE=${bridge}`));
    vm = await start(dir, cmd);
    // A tap has carrier only while a process holds it: QEMU opened both.
    assert.equal(readFileSync(`${eth}/carrier`, 'utf8').trim(), '1');
    assert.equal(readFileSync(`${br}/carrier`, 'utf8').trim(), '1');
    await stop(vm);
    vm = undefined;
    for (const t of cmd.taps) await removeTap(t);
    assert.ok(!existsSync(eth!) && !existsSync(br!));
  });

  test('tap set-up failures leave nothing behind', async () => {
    const name = `vkt${process.pid % 100000}`;
    await assert.rejects(setUpTap({ name, bridge: 'no-such-br0', mac: 'fe:54:00:00:00:01', managed: true }), /bridge 'no-such-br0' does not exist/);
    assert.ok(!existsSync(`/sys/class/net/${name}`));
    await assert.rejects(setUpTap({ name, mac: 'zz:54:00:00:00:01', managed: true }), /cannot set up tap device/);
    assert.ok(!existsSync(`/sys/class/net/${name}`));
    await assert.rejects(setUpTap({ name: 'lo', mac: 'fe:54:00:00:00:01', managed: true }), /'lo' already exists/);
    await assert.rejects(setUpTap({ name, mac: 'fe:54:00:00:00:01', managed: false }), /managed='no'\) does not exist/);
  });
});

describe('the test guest boots from the argv and sees its devices', opts, () => {
  const dir = privateDir('vk-boot-');
  let vm: Launched | undefined;
  after(async () => {
    await stop(vm);
    execFileSync('rm', ['-rf', dir]);
  });

  test('virtio disk, scsi disk and virtio NIC appear in the guest with their sizes and MAC', async () => {
    const guest = testGuest();
    const serial = join(dir, 'serial,0.log');
    const live = liveOf(`<domain type='qemu'><name>boot</name><memory unit='MiB'>192</memory>
      <os><type machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
      <features><acpi/></features><devices>
      <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img(dir, 'v,1.qcow2', '20M', 'qcow2')}'/><target dev='vda'/></disk>
      <disk type='file' device='disk'><source file='${img(dir, 's1.raw', '24M')}'/><target dev='sda' bus='scsi'/></disk>
      <controller type='scsi' model='virtio-scsi'/>
      <interface type='user'><mac address='52:54:00:cc:00:01'/><model type='virtio'/></interface>
      <serial type='file'><source path='${serial}'/></serial><memballoon model='none'/>
      </devices></domain>`);
    vm = await start(dir, buildQemuCommand(live, { monitorPath: join(dir, 'monitor.sock'), accel: 'tcg' }));
    await vm.qmp.execute('cont');
    const log = new SerialLog(serial);
    await log.waitFor(/VIRTKIT_GUEST_READY/, 120_000);
    const boot = log.text();
    assert.match(boot, /VIRTKIT_GUEST \+ blk vda 40960/);
    assert.match(boot, /VIRTKIT_GUEST \+ blk sda 49152/);
    assert.match(boot, /VIRTKIT_GUEST \+ net eth0 52:54:00:cc:00:01/);
    // ACPI power button: the guest powers off, QEMU exits and its log says why.
    const shutdown = vm.qmp.waitForEvent((e) => e.event === 'SHUTDOWN', { timeoutMs: 60_000 });
    vm.child.ref();
    const exited = new Promise((r) => vm!.child.once('exit', r));
    await vm.qmp.execute('system_powerdown');
    assert.equal((await shutdown)?.data?.reason, 'guest-shutdown');
    await exited;
    assert.equal(loggedShutdownCause(join(dir, 'qemu.log'), 0), 'guest-shutdown');
  });
});
