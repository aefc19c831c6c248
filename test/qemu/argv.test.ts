/** Domain XML → QEMU argv: JSON-form devices, addresses from the definition, no option injection, clear refusals. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDomainXml } from '../../src/conf/index.js';
import { buildQemuCommand } from '../../src/drivers/qemu/command/build.js';
import { liveDefinition } from '../../src/drivers/qemu/live-def.js';
import { ErrorCode, isVirtError } from '../../src/index.js';

function live(xml: string) {
  let n = 0;
  return liveDefinition(parseDomainXml(xml), 7, { domid: 7, allocTap: (p) => `${p}${n++}`, allocDevid: () => 0 });
}

function domain(devices: string, opts: { machine?: string; name?: string; extra?: string } = {}): string {
  return `<domain type='qemu'><name>${opts.name ?? 'argv'}</name><memory unit='MiB'>128</memory>
  <os><type arch='x86_64' machine='${opts.machine ?? 'pc'}'>hvm</type><kernel>/boot/vmlinuz</kernel><cmdline>console=ttyS0 a=b,c</cmdline></os>
  <features><acpi/></features>${opts.extra ?? ''}
  <devices>${devices}</devices></domain>`;
}

const build = (xml: string) => buildQemuCommand(live(xml), { monitorPath: '/run/vk/mon.sock', accel: 'tcg' });

/** The JSON of every `-<opt>` argument. */
function jsonOf(args: string[], opt: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < args.length; i++) if (args[i] === opt) out.push(JSON.parse(args[i + 1]!));
  return out;
}

function optValues(args: string[], opt: string): string[] {
  return args.flatMap((a, i) => (a === opt ? [args[i + 1]!] : []));
}

describe('domain XML → QEMU argv', () => {
  test('machine, accelerator, memory, vcpus, monitor, direct kernel boot, -S, shutdown cause traced', () => {
    const cmd = build(domain('', { extra: '<vcpu>2</vcpu>' }));
    assert.equal(cmd.emulator, '/usr/bin/qemu-system-x86_64');
    // The machine is the canonical name define-time defaults chose (pc → pc-i440fx-<version>).
    assert.match(optValues(cmd.args, '-machine')[0]!, /^pc-i440fx-\d+\.\d+,usb=off,dump-guest-core=off,acpi=on$/);
    assert.deepEqual(optValues(cmd.args, '-accel'), ['tcg']);
    assert.deepEqual(optValues(cmd.args, '-m'), ['size=131072k']);
    assert.deepEqual(optValues(cmd.args, '-smp'), ['2,sockets=2,cores=1,threads=1']);
    assert.deepEqual(optValues(cmd.args, '-chardev'), ['socket,id=charmonitor,path=/run/vk/mon.sock,server=on,wait=off']);
    assert.deepEqual(optValues(cmd.args, '-mon'), ['chardev=charmonitor,id=monitor,mode=control']);
    assert.deepEqual(optValues(cmd.args, '-kernel'), ['/boot/vmlinuz']);
    // The kernel command line is one argument, passed verbatim (QEMU does not parse it).
    assert.deepEqual(optValues(cmd.args, '-append'), ['console=ttyS0 a=b,c']);
    for (const flag of ['-S', '-nodefaults', '-no-user-config']) assert.ok(cmd.args.includes(flag), flag);
    assert.deepEqual(optValues(cmd.args, '-trace'), ['enable=qemu_system_shutdown_request']);
    assert.deepEqual(jsonOf(cmd.args, '-audiodev'), [{ id: 'audio1', driver: 'none' }]);
  });

  test('no <acpi/> is acpi=off; on_reboot destroy is -no-reboot; q35 machine', () => {
    const xml = domain('', { machine: 'q35' }).replace('<features><acpi/></features>', '<on_reboot>destroy</on_reboot>');
    const cmd = build(xml);
    assert.match(optValues(cmd.args, '-machine')[0]!, /^pc-q35-\d+\.\d+,usb=off,dump-guest-core=off,acpi=off$/);
    assert.ok(cmd.args.includes('-no-reboot'));
  });

  test('disks: blockdev nodes named by alias, frontends on the addresses of the definition', () => {
    const cmd = build(
      domain(`<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/img/a,b.qcow2'/><target dev='vda' bus='virtio'/></disk>
      <disk type='file' device='disk'><source file='/img/s.raw'/><target dev='sda' bus='scsi'/></disk>
      <disk type='block' device='disk'><source dev='/dev/sdz'/><target dev='sdb' bus='usb'/><readonly/></disk>
      <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>
      <controller type='scsi' model='virtio-scsi'/><controller type='usb' model='qemu-xhci'/>`),
    );
    const nodes = jsonOf(cmd.args, '-blockdev');
    assert.deepEqual(nodes.slice(0, 2), [
      { driver: 'file', filename: '/img/a,b.qcow2', 'node-name': 'vks0-virtio-disk0', 'auto-read-only': true, discard: 'unmap' },
      { 'node-name': 'vkf0-virtio-disk0', 'read-only': false, driver: 'qcow2', file: 'vks0-virtio-disk0' },
    ]);
    assert.equal(nodes[4]!.driver, 'host_device');
    assert.equal(nodes[5]!['read-only'], true);
    const devices = jsonOf(cmd.args, '-device');
    const byId = new Map(devices.map((d) => [d.id, d]));
    assert.deepEqual(byId.get('scsi0'), { driver: 'virtio-scsi-pci', id: 'scsi0', bus: 'pci.0', addr: '0x2' });
    assert.deepEqual(byId.get('usb'), { driver: 'qemu-xhci', id: 'usb', bus: 'pci.0', addr: '0x3' });
    assert.deepEqual(byId.get('virtio-disk0'), { driver: 'virtio-blk-pci', bus: 'pci.0', addr: '0x4', drive: 'vkf0-virtio-disk0', id: 'virtio-disk0' });
    assert.deepEqual(byId.get('scsi0-0-0-0'), {
      driver: 'scsi-hd', bus: 'scsi0.0', channel: 0, 'scsi-id': 0, lun: 0, device_id: 'drive-scsi0-0-0-0', drive: 'vkf0-scsi0-0-0-0', id: 'scsi0-0-0-0',
    });
    assert.deepEqual(byId.get('usb-disk1'), { driver: 'usb-storage', bus: 'usb.0', port: '1', drive: 'vkf0-usb-disk1', id: 'usb-disk1', removable: false });
    // An empty CD-ROM drive has no block nodes.
    assert.deepEqual(byId.get('ide0-1-0'), { driver: 'ide-cd', bus: 'ide.1', unit: 0, id: 'ide0-1-0' });
    assert.equal(nodes.length, 6);
  });

  test('interfaces: user netdev, taps named by the live definition for ethernet and bridge, link state', () => {
    const cmd = build(
      domain(`<interface type='user'><mac address='52:54:00:00:00:01'/><model type='virtio'/></interface>
      <interface type='ethernet'><mac address='52:54:00:00:00:02'/><model type='virtio'/><link state='down'/></interface>
      <interface type='bridge'><mac address='52:54:00:00:00:03'/><source bridge='br0'/><model type='e1000'/></interface>
      <interface type='ethernet'><mac address='52:54:00:00:00:04'/><target dev='mytap' managed='no'/></interface>`),
    );
    assert.deepEqual(jsonOf(cmd.args, '-netdev'), [
      { type: 'user', id: 'hostnet0' },
      { type: 'tap', id: 'hostnet1', ifname: 'vnet0', script: 'no', downscript: 'no' },
      { type: 'tap', id: 'hostnet2', ifname: 'vnet1', script: 'no', downscript: 'no' },
      { type: 'tap', id: 'hostnet3', ifname: 'mytap', script: 'no', downscript: 'no' },
    ]);
    const nics = jsonOf(cmd.args, '-device').filter((d) => String(d.id).startsWith('net'));
    assert.deepEqual(nics[0], { driver: 'virtio-net-pci', netdev: 'hostnet0', id: 'net0', mac: '52:54:00:00:00:01', bus: 'pci.0', addr: '0x2' });
    assert.equal(nics[2]!.driver, 'e1000');
    assert.equal(nics[3]!.driver, 'rtl8139', "libvirt's default model");
    assert.deepEqual(cmd.taps, [
      { name: 'vnet0', bridge: undefined, mac: 'fe:54:00:00:00:02', managed: true },
      { name: 'vnet1', bridge: 'br0', mac: 'fe:54:00:00:00:03', managed: true },
      { name: 'mytap', bridge: undefined, mac: 'fe:54:00:00:00:04', managed: false },
    ]);
    assert.deepEqual(cmd.linkDown, ['net1']);
  });

  test('q35: pcie-root-ports, devices behind them, the built-in AHCI as bus ide', () => {
    const cmd = build(
      domain(`<disk type='file' device='cdrom'><source file='/img/x.iso'/><target dev='sda' bus='sata'/></disk>
      <interface type='user'><mac address='52:54:00:00:00:01'/><model type='virtio'/></interface>`, { machine: 'q35' }),
    );
    const devices = jsonOf(cmd.args, '-device');
    const ports = devices.filter((d) => d.driver === 'pcie-root-port');
    assert.ok(ports.length >= 2);
    for (const key of ['driver', 'port', 'chassis', 'id', 'bus', 'addr']) assert.ok(key in ports[0]!, key);
    assert.equal(ports[0]!.bus, 'pcie.0');
    const nic = devices.find((d) => d.id === 'net0')!;
    assert.match(String(nic.bus), /^pci\.\d+$/);
    assert.equal(nic.addr, '0x0');
    assert.deepEqual(devices.find((d) => d.driver === 'ide-cd'), { driver: 'ide-cd', bus: 'ide.0', drive: 'vkf0-sata0-0-0', id: 'sata0-0-0' });
    // The cdrom medium is read-only.
    assert.equal(jsonOf(cmd.args, '-blockdev')[1]!['read-only'], true);
  });

  test('serial to a file, a pty and a unix socket; the console is the serial port', () => {
    const cmd = build(
      domain(`<serial type='file'><source path='/var/log/a,b.log'/><target port='0'/></serial>
      <serial type='pty'><target port='1'/></serial>
      <serial type='unix'><source mode='bind' path='/run/s,x.sock'/><target port='2'/></serial>`),
    );
    assert.deepEqual(optValues(cmd.args, '-chardev').slice(1), [
      'file,id=charserial0,path=/var/log/a,,b.log',
      'pty,id=charserial1',
      'socket,id=charserial2,path=/run/s,,x.sock,server=on,wait=off',
    ]);
    assert.deepEqual(cmd.ptys, [{ alias: 'serial1', chardev: 'charserial1' }]);
    const serials = jsonOf(cmd.args, '-device').filter((d) => d.driver === 'isa-serial');
    assert.deepEqual(serials.map((s) => [s.id, s.index]), [['serial0', 0], ['serial1', 1], ['serial2', 2]]);
  });

  test('boot order from <os><boot> becomes bootindex when no kernel is booted directly', () => {
    const xml = `<domain type='qemu'><name>b</name><memory>131072</memory><os><type>hvm</type><boot dev='cdrom'/><boot dev='hd'/></os>
      <devices><disk type='file' device='disk'><source file='/i/d.raw'/><target dev='vda'/></disk>
      <disk type='file' device='cdrom'><source file='/i/c.iso'/><target dev='hdc'/></disk></devices></domain>`;
    const devices = jsonOf(build(xml).args, '-device');
    assert.equal(devices.find((d) => d.id === 'ide0-1-0')!.bootindex, 1);
    assert.equal(devices.find((d) => d.id === 'virtio-disk0')!.bootindex, 2);
  });

  test('values cannot inject options: names and paths stay one value', () => {
    const cmd = build(
      domain(`<disk type='file' device='disk'><source file='/img/x","driver":"nbd.raw'/><target dev='vda'/></disk>
      <serial type='file'><source path='/l/x,server=on,path=/etc/passwd'/></serial>`, { name: 'evil,debug-threads=off,process=x' }),
    );
    assert.deepEqual(optValues(cmd.args, '-name'), ['guest=evil,,debug-threads=off,,process=x,debug-threads=on']);
    assert.equal(jsonOf(cmd.args, '-blockdev')[0]!.filename, '/img/x","driver":"nbd.raw');
    assert.equal(optValues(cmd.args, '-chardev')[1], 'file,id=charserial0,path=/l/x,,server=on,,path=/etc/passwd');
  });

  test('watchdogs: i6300esb on its PCI address, ib700 on ISA, the action as -action watchdog=', () => {
    const cmd = build(domain(`<watchdog model='i6300esb' action='poweroff'/>`));
    const [dog] = jsonOf(cmd.args, '-device').filter((d) => d.driver === 'i6300esb');
    assert.equal(dog!.id, 'watchdog0');
    assert.equal(dog!.bus, 'pci.0');
    assert.match(String(dog!.addr), /^0x[0-9a-f]+$/);
    assert.deepEqual(optValues(cmd.args, '-action'), ['watchdog=poweroff']);
    const isa = build(domain(`<watchdog model='ib700'/>`));
    assert.deepEqual(jsonOf(isa.args, '-device').filter((d) => d.driver === 'ib700'), [{ driver: 'ib700', id: 'watchdog0' }]);
    assert.deepEqual(optValues(isa.args, '-action'), [], 'no action: QEMU\'s default, reset, as libvirt');
    assert.throws(() => build(domain(`<watchdog model='i6300esb' action='dump'/>`)), /watchdog action 'dump' is not supported/);
  });

  test('what the driver cannot run is refused with CONFIG_UNSUPPORTED naming it', () => {
    const refuses = (xml: string, re: RegExp): void => {
      assert.throws(() => build(xml), (e: unknown) => isVirtError(e, ErrorCode.CONFIG_UNSUPPORTED) && re.test((e as Error).message), String(re));
    };
    refuses(domain(`<interface type='network'><source network='default'/></interface>`), /interface type 'network' is not supported/);
    refuses(domain(`<graphics type='vnc'/>`), /device <graphics>|video/);
    refuses(domain(`<disk type='network' device='disk'><source protocol='nbd' name='x'><host name='h'/></source><target dev='vda'/></disk>`), /disk type 'network'/);
    refuses(domain(`<disk type='file' device='disk'><driver name='qemu' type='vmdk'/><source file='/i/x'/><target dev='vda'/></disk>`), /disk format 'vmdk'/);
    refuses(domain(`<disk type='file' device='disk'><source file='relative.img'/><target dev='vda'/></disk>`), /must be an absolute path/);
    const microvm = live(domain(''));
    microvm.root.find('os', 'type')!.setAttr('machine', 'microvm');
    assert.throws(() => buildQemuCommand(microvm, { monitorPath: '/m', accel: 'tcg' }), /machine type 'microvm' is not supported/);
    refuses(domain(`<interface type='ethernet'><target dev='a/b' managed='no'/></interface>`), /not a valid network interface name/);
    refuses(domain(`<interface type='ethernet'><target dev='..' managed='no'/></interface>`), /not a valid network interface name/);
    refuses(domain(`<interface type='bridge'><source bridge='br 0'/></interface>`), /bridge name 'br 0'/);
    refuses(domain(`<disk type='file' device='disk'><source file='/i/x'/><target dev='vda'/><alias name='ua-x y'/></disk>`), /cannot be used as a QEMU id/);
    const kvmOnly = domain('', { extra: "<cpu mode='host-passthrough'/>" });
    refuses(kvmOnly, /CPU mode 'host-passthrough' needs KVM/);
  });
});
