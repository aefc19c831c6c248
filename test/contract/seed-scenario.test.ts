/**
 * The founding scenario: xen and qemu domains get backend-chosen NIC names written
 * back into live XML, and the dumped XML of one NIC detaches exactly that NIC.
 */
import assert from 'node:assert/strict';
import { DeviceModify, DomainXML, ErrorCode, xml } from '../../src/index.js';
import { bridgeNic, devicesOf, domainXml, parsed, rejectsWith } from '../core/helpers.js';
import { contractTest } from './harness.js';

for (const type of ['xen', 'qemu'] as const) {
  contractTest(`${type} domain: attach two NICs, names written back, detach one by its dumped XML`, async (c) => {
    const conn = await c.open();
    const dom = await conn.defineXML(c.domain(domainXml({ name: `seed-${type}`, type })));
    await dom.create();
    const id = await dom.getID();
    assert.ok(id > 0);

    for (let i = 0; i < 2; i++) await dom.attachDeviceFlags(c.device(bridgeNic), DeviceModify.LIVE);
    const live = await dom.getXMLDesc();
    const nics = devicesOf(live, 'interface');
    assert.equal(nics.length, 2);
    const targets = nics.map((n) => parsed(n).child('target')?.attr('dev'));
    if (type === 'xen') {
      assert.deepEqual(targets, [`vif${id}.0`, `vif${id}.1`]);
    } else {
      assert.ok(targets.every((t) => /^vnet\d+$/.test(t ?? '')), String(targets));
      assert.notEqual(targets[0], targets[1]);
    }
    const macs = nics.map((n) => parsed(n).child('mac')?.attr('address'));
    assert.match(macs[0]!, type === 'xen' ? /^00:16:3e:/ : /^52:54:00:/);
    assert.deepEqual(
      nics.map((n) => parsed(n).child('alias')?.attr('name')),
      ['net0', 'net1'],
    );

    const result = await dom.detachDevice(nics[0]!);
    assert.deepEqual(result, { outcome: 'removed', alias: 'net0' });
    const after = devicesOf(await dom.getXMLDesc(), 'interface');
    assert.equal(after.length, 1);
    assert.equal(parsed(after[0]!).child('target')?.attr('dev'), targets[1]);
    assert.equal(parsed(after[0]!).child('mac')?.attr('address'), macs[1]);

    const inactive = await dom.getXMLDesc(DomainXML.INACTIVE);
    assert.doesNotMatch(inactive, /vnet|vif|<alias|<domain[^>]* id='/);
    assert.equal(devicesOf(inactive, 'interface').length, 0, 'live-only attach never reached the config');
    await conn.close();
  }, (target) => target.domainTypes.includes(type));
}

contractTest('live|config attach: same MAC and address in both, names only in live XML', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'both' })));
  await dom.create();
  await dom.attachDeviceFlags(c.device(bridgeNic), DeviceModify.LIVE | DeviceModify.CONFIG);
  const live = parsed(devicesOf(await dom.getXMLDesc(), 'interface')[0]!);
  const config = parsed(devicesOf(await dom.getXMLDesc(DomainXML.INACTIVE), 'interface')[0]!);
  assert.equal(live.child('mac')?.attr('address'), config.child('mac')?.attr('address'));
  assert.deepEqual(live.child('address')?.attrs, config.child('address')?.attrs);
  assert.match(live.child('target')?.attr('dev') ?? '', /^vnet\d+$/);
  assert.equal(config.child('target'), undefined);
  assert.equal(config.child('alias'), undefined);
  // The dumped live XML detaches from both definitions.
  await dom.detachDeviceFlags(xml.serializeXml(live), DeviceModify.LIVE | DeviceModify.CONFIG);
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 0);
  assert.equal(devicesOf(await dom.getXMLDesc(DomainXML.INACTIVE), 'interface').length, 0);
  await conn.close();
});

contractTest('vnet numbers come from a driver-wide counter and are never reused', async (c) => {
  const conn = await c.open();
  const a = await conn.defineXML(c.domain(domainXml({ name: 'ctr-a' })));
  const b = await conn.defineXML(c.domain(domainXml({ name: 'ctr-b' })));
  await a.create();
  await b.create();
  const seen: string[] = [];
  for (const dom of [a, b, a]) {
    await dom.attachDeviceFlags(c.device(bridgeNic), DeviceModify.LIVE);
    const nics = devicesOf(await dom.getXMLDesc(), 'interface');
    const last = parsed(nics[nics.length - 1]!);
    seen.push(last.child('target')!.attr('dev')!);
    await dom.detachDevice(nics[nics.length - 1]!);
  }
  assert.equal(new Set(seen).size, 3, String(seen));
  await conn.close();
});

contractTest('xen devids follow the creation sequence and are not reused after detach', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'xen-seq', type: 'xen', devices: bridgeNic })));
  await dom.create();
  const id = await dom.getID();
  assert.equal(parsed(devicesOf(await dom.getXMLDesc(), 'interface')[0]!).child('target')?.attr('dev'), `vif${id}.0`);
  await dom.detachDevice(devicesOf(await dom.getXMLDesc(), 'interface')[0]!);
  await dom.attachDevice(bridgeNic);
  assert.equal(parsed(devicesOf(await dom.getXMLDesc(), 'interface')[0]!).child('target')?.attr('dev'), `vif${id}.1`);
  await conn.close();
}, (target) => target.domainTypes.includes('xen'));

contractTest('a user tap name is kept; a name in the reserved prefix is replaced unless managed=no', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'names' })));
  await dom.create();
  // The target may stand its own names for the user's (taps are host-wide); the driver must keep them.
  const mine = c.device(`<interface type='ethernet'><mac address='52:54:00:00:00:01'/><target dev='mytap7'/></interface>`);
  const unmanaged = c.device(`<interface type='ethernet'><mac address='52:54:00:00:00:03'/><target dev='vnet998' managed='no'/></interface>`);
  const targetOf = (x: string) => parsed(x).child('target')?.attr('dev');
  await dom.attachDevice(mine);
  await dom.attachDevice(c.device(`<interface type='ethernet'><mac address='52:54:00:00:00:02'/><target dev='vnet999'/></interface>`));
  await dom.attachDevice(unmanaged);
  const targets = devicesOf(await dom.getXMLDesc(), 'interface').map((n) => parsed(n).child('target')?.attr('dev'));
  assert.equal(targets[0], targetOf(mine));
  assert.notEqual(targets[1], 'vnet999');
  assert.match(targets[1]!, /^vnet\d+$/);
  assert.equal(targets[2], targetOf(unmanaged));
  await conn.close();
});


contractTest("xen domains follow libxl's live rules, not QEMU's", async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'xen-rules', type: 'xen' })));
  await dom.create();
  // QEMU refuses a xen-bus disk live; libxl plugs it.
  const xvdb = `<disk type='file' device='disk'><source file='/x/b.img'/><target dev='xvdb' bus='xen'/></disk>`;
  await dom.attachDevice(xvdb);
  assert.equal(devicesOf(await dom.getXMLDesc(), 'disk').length, 2);
  assert.deepEqual((await dom.detachDevice(xvdb)).outcome, 'removed');
  await rejectsWith(
    dom.attachDevice(`<disk type='file'><source file='/x/c.img'/><target dev='vdc' bus='virtio'/></disk>`),
    ErrorCode.CONFIG_UNSUPPORTED,
    /disk bus 'virtio' cannot be hotplugged/,
  );
  await rejectsWith(dom.attachDevice(`<video><model type='vga'/></video>`), ErrorCode.CONFIG_UNSUPPORTED, /device type 'video' cannot be attached/);
  await rejectsWith(dom.attachDevice(`<controller type='scsi' index='3'/>`), ErrorCode.CONFIG_UNSUPPORTED, /'scsi' controller cannot be hot plugged/);
  // The same disk on a qemu domain is refused by QEMU's rules.
  const q = await conn.defineXML(c.domain(domainXml({ name: 'qemu-rules' })));
  await q.create();
  await rejectsWith(q.attachDevice(xvdb), ErrorCode.OPERATION_UNSUPPORTED, /disk bus 'xen' cannot be hotplugged/);
}, (target) => target.domainTypes.includes('xen'));
