/**
 * The lost-unplug pitfall (QEMU 7.2, ACPI PCI hot-plug): a device_del sent before the guest OS runs
 * is lost for good. On a domain started paused, a detach is pending; the request waits until the
 * guest's ACPI handles PCI hot-plug and is then sent, so the device leaves once the guest has booted,
 * even when the detach came from a process that has exited since.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, DeviceModify, type DomainEvent, DomainStart, xml } from '../../src/index.js';
import { guestDomain, qemuRoot, type QemuRoot, runNode } from './driver-helpers.js';
import { qemuTestOptions, SerialLog } from './helpers.js';

const opts = qemuTestOptions();

describe('qemu:///session: a guest started paused', opts, () => {
  let root: QemuRoot;
  let conn: Connection;
  const removed: string[] = [];
  before(async () => {
    root = qemuRoot('vkq-paused-', '&unplugTimeout=500');
    conn = await root.open();
    conn.on('device-removed', (e: DomainEvent) => removed.push((e as { alias: string }).alias));
  });
  after(() => root.cleanup());

  test('detach before the guest booted is pending, and is never lost: the device leaves after boot', async () => {
    const nic = (mac: string) => `<interface type='user'><mac address='${mac}'/><model type='virtio'/></interface>`;
    const dom = await conn.defineXML(guestDomain(root, 'late', { devices: nic('52:54:00:5e:00:01') }));
    await dom.createWithFlags(DomainStart.PAUSED);
    await dom.attachDeviceFlags(nic('52:54:00:5e:00:02'), DeviceModify.LIVE);
    // This process asks for one NIC, another process (which then exits) for the other.
    assert.deepEqual(await dom.detachDeviceFlags(nic('52:54:00:5e:00:01'), DeviceModify.LIVE), { outcome: 'pending', alias: 'net0' });
    const other = await runNode(`
      import { Connection, DeviceModify } from './src/index.ts';
      const c = await Connection.open(${JSON.stringify(root.uri)});
      const d = await c.lookupByName('late');
      console.log(JSON.stringify(await d.detachDeviceFlags(${JSON.stringify(nic('52:54:00:5e:00:02'))}, DeviceModify.LIVE)));
      await c.close();`);
    assert.equal(other.code, 0, other.out);
    assert.deepEqual(JSON.parse(other.out.trim().split('\n').pop()!), { outcome: 'pending', alias: 'net1' });
    // Asking again while pending is fine (QEMU would refuse a second device_del; none was sent).
    assert.equal((await dom.detachDeviceAlias('net0')).outcome, 'pending');
    const live = xml.parseXml(await dom.getXMLDesc());
    assert.equal(live.child('devices')!.elements('interface').length, 2, 'pending devices stay in the live XML');

    await dom.resume();
    const serial = new SerialLog(join(root.dir, 'late.serial'));
    await serial.waitFor(/VIRTKIT_GUEST_READY/, 180_000);
    // The guest booted with both NICs, then its ACPI took the requests.
    const deadline = Date.now() + 120_000;
    while (removed.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(removed.sort(), ['net0', 'net1']);
    assert.equal(xml.parseXml(await dom.getXMLDesc()).child('devices')!.elements('interface').length, 0);
    // The guest OS took the ejects as soon as its ACPI was up (before its NIC driver loaded, under TCG):
    // whatever it listed, it ends with neither NIC.
    const text = serial.text();
    for (const mac of ['52:54:00:5e:00:01', '52:54:00:5e:00:02']) {
      const appeared = new RegExp(`\\+ net eth\\d ${mac}`).test(text);
      const left = new RegExp(`- net eth\\d ${mac}`).test(text);
      assert.equal(appeared, left, `${mac}: seen by the guest ${appeared}, gone ${left}`);
    }
    await dom.destroy();
  });
});
