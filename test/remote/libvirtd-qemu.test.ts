/**
 * virtkit's remote driver driving a real libvirtd's QEMU driver (Debian's libvirt 9.0, in a private
 * mount namespace with its own config and state): the test guest (a NIC at boot: its init reports
 * changes against what it saw at boot) boots under TCG, and a disk and a NIC are hot-plugged and
 * unplugged through the public API. The typed results (alias, removed)
 * come from the live XML around libvirt's void replies; the guest's serial console confirms what it
 * saw, and device-removed arrives as an event.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Connection, DeviceModify } from '../../src/index.js';
import { qemuMissing, SerialLog, testGuest } from '../qemu/helpers.js';
import { ensureLibvirtQemuUsers, missingPeers, startLibvirtdQemu, unavailable } from './helpers.js';

const reason = missingPeers(['libvirtd']) ?? qemuMissing() ?? (existsSync('/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so') ? undefined : 'libvirt-daemon-driver-qemu missing') ?? ensureLibvirtQemuUsers();

if (reason) {
  unavailable("remote driver against libvirtd's QEMU driver", reason);
} else {
  test("remote driver against libvirtd's QEMU driver: hot-plug into a running test guest", { timeout: 600_000 }, async () => {
    const guest = testGuest();
    const lv = await startLibvirtdQemu();
    let conn: Connection | undefined;
    let running: { destroy(): Promise<void> } | undefined;
    try {
      const serial = join(lv.dir, 'serial.log');
      const image = join(lv.dir, 'data.qcow2');
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '16M']);
      conn = await Connection.open(`qemu+unix:///system?socket=${lv.socket}`);
      assert.equal(conn.getType(), 'QEMU');
      const events = conn.events({ types: ['device-removed'] });
      await events.ready;
      const dom = await conn.createXML(`<domain type='qemu'>
  <name>vk-remote-guest</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${guest.kernel}</kernel>
    <initrd>${guest.initrd}</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='scsi' model='virtio-scsi'/>
    <interface type='user'><mac address='52:54:00:00:10:01'/><model type='virtio'/></interface>
    <serial type='file'><source path='${serial}'/><target port='0'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>`);
      running = dom;
      const log = new SerialLog(serial);
      await log.waitFor(/VIRTKIT_GUEST_READY/, 300_000);

      // A SCSI disk: libvirt names it scsi0-0-0-N and its unplug completes within the call.
      const disk = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${image}'/><target dev='sdb' bus='scsi'/></disk>`;
      const attached = await dom.attachDeviceFlags(disk, DeviceModify.LIVE);
      assert.match(attached.alias ?? '', /^scsi0-0-0-\d+$/);
      await log.waitFor(/VIRTKIT_GUEST \+ blk sd\w+ 32768/, 120_000);
      const removed = await dom.detachDeviceFlags(disk, DeviceModify.LIVE);
      assert.deepEqual(removed, { outcome: 'removed', alias: attached.alias });
      await log.waitFor(/VIRTKIT_GUEST - blk sd\w+/, 120_000);

      // A NIC without MAC or alias: libvirt picks both; the driver reports the alias it wrote back.
      const nic = await dom.attachDevice(`<interface type='user'><model type='virtio'/></interface>`);
      assert.match(nic.alias ?? '', /^net\d+$/);
      const live = await dom.getXMLDesc();
      const element = live.split('<interface').find((chunk) => chunk.includes(`<alias name='${nic.alias}'/>`)) ?? '';
      const mac = /<mac address='([0-9a-f:]+)'\/>/.exec(element)?.[1];
      assert.ok(mac, 'the attached NIC is in the live XML with its MAC');
      await log.waitFor(new RegExp(`VIRTKIT_GUEST \\+ net \\w+ ${mac}`), 120_000);
      // Detach by the XML the live definition shows (libvirt matches the MAC), then the event.
      const gone = await dom.detachDeviceFlags(`<interface type='user'><mac address='${mac}'/><model type='virtio'/></interface>`, DeviceModify.LIVE);
      assert.equal(gone.alias, nic.alias);
      assert.ok(gone.outcome === 'removed' || gone.outcome === 'pending');
      // libvirt announced both unplugs: the disk's, then the NIC's.
      const aliases: string[] = [];
      while (aliases.length < 2) {
        const { value } = await events.next();
        if (value?.type === 'device-removed') aliases.push(value.alias);
      }
      assert.deepEqual(aliases, [attached.alias, nic.alias]);
      await log.waitFor(new RegExp(`VIRTKIT_GUEST - net \\w+ ${mac}`), 120_000);
      assert.doesNotMatch(await dom.getXMLDesc(), new RegExp(mac));
      await events.return?.();
      await dom.destroy();
      running = undefined;
    } finally {
      // libvirt's QEMU processes outlive libvirtd: never leave the guest behind.
      await running?.destroy().catch(() => undefined);
      await conn?.close().catch(() => undefined);
      await lv.stop();
    }
  });
}
