/** Device matching for detach/update, as libvirt does it, and the contradiction check on top. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeviceModify, DomainXML, ErrorCode } from '../../src/index.js';
import { devicesOf, domainXml, freshConnection, parsed, rejectsWith } from './helpers.js';

const nic = (mac: string, bridge = 'br0') =>
  `<interface type='bridge'><mac address='${mac}'/><source bridge='${bridge}'/><model type='virtio'/></interface>`;

test('interface: MAC picks the device; <target dev> is not a match key', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'm1', devices: nic('52:54:00:00:00:01') + nic('52:54:00:00:00:02') }));
  await dom.create();
  // Uppercase MAC is the same MAC.
  const r = await dom.detachDevice(`<interface type='bridge'><mac address='52:54:00:00:00:02'/></interface>`.replace('52:54:00:00:00:02', '52:54:00:00:00:02'.toUpperCase()));
  assert.equal(r.outcome, 'removed');
  const left = devicesOf(await dom.getXMLDesc(), 'interface');
  assert.equal(left.length, 1);
  assert.match(left[0]!, /52:54:00:00:00:01/);
  await conn.close();
});

test('interface without MAC: the generated MAC is ignored, alias decides; several candidates are ambiguous', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'm2', devices: nic('52:54:00:00:00:01') + nic('52:54:00:00:00:02') }));
  await dom.create();
  const before = await dom.getXMLDesc();
  await rejectsWith(dom.detachDevice(`<interface type='bridge'/>`), ErrorCode.OPERATION_FAILED, /multiple matching devices found/);
  assert.equal(await dom.getXMLDesc(), before);
  await dom.detachDevice(`<interface type='bridge'><alias name='net1'/></interface>`);
  const left = devicesOf(await dom.getXMLDesc(), 'interface');
  assert.equal(left.length, 1);
  assert.match(left[0]!, /52:54:00:00:00:01/);
  await conn.close();
});

test('duplicate MACs: ambiguity names the MAC; a PCI address disambiguates', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'm3', devices: nic('52:54:00:00:00:07') + nic('52:54:00:00:00:07', 'br1') }));
  await dom.create();
  await rejectsWith(dom.detachDevice(`<interface type='bridge'><mac address='52:54:00:00:00:07'/></interface>`), ErrorCode.OPERATION_FAILED, /multiple devices matching MAC address 52:54:00:00:00:07 found/);
  const second = parsed(devicesOf(await dom.getXMLDesc(), 'interface')[1]!);
  const addr = second.child('address')!;
  await dom.detachDevice(`<interface type='bridge'><mac address='52:54:00:00:00:07'/>${xmlAttrs(addr)}</interface>`);
  const left = devicesOf(await dom.getXMLDesc(), 'interface');
  assert.equal(left.length, 1);
  assert.match(left[0]!, /br0/);
  await conn.close();
});

test('no match: DEVICE_MISSING with libvirt\'s message for NICs and disks', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'm4', devices: nic('52:54:00:00:00:01') }));
  await dom.create();
  await rejectsWith(
    dom.detachDevice(nic('52:54:00:00:00:09')),
    ErrorCode.DEVICE_MISSING,
    /no device found at address '\(<null>\)' matching MAC address '52:54:00:00:00:09' and alias '\(<null>\)'/,
  );
  await rejectsWith(dom.detachDevice(`<disk type='file'><target dev='vdz'/></disk>`), ErrorCode.DEVICE_MISSING, /disk vdz not found/);
  await rejectsWith(dom.detachDeviceAlias('net7'), ErrorCode.DEVICE_MISSING, /no device found with alias net7/);
  await conn.close();
});

test('disk: live by target dev only; config also by an unambiguous source path', async () => {
  const conn = await freshConnection();
  const disks =
    `<disk type='file'><source file='/img/b.img'/><target dev='vdb'/></disk>` + `<disk type='file'><source file='/img/c.img'/><target dev='vdc'/></disk>`;
  const dom = await conn.defineXML(domainXml({ name: 'm5', devices: disks }));
  // The source is irrelevant for the match, but must not contradict it.
  await rejectsWith(
    dom.detachDeviceFlags(`<disk type='file'><source file='/img/c.img'/><target dev='vdb'/></disk>`, DeviceModify.CONFIG),
    ErrorCode.INVALID_ARG,
    /source is '\/img\/c.img' in the XML but '\/img\/b.img' in the domain/,
  );
  await dom.detachDeviceFlags(`<disk type='file'><target dev='/img/c.img'/></disk>`, DeviceModify.CONFIG);
  const left = devicesOf(await dom.getXMLDesc(DomainXML.INACTIVE), 'disk').map((d) => parsed(d).child('target')?.attr('dev'));
  assert.deepEqual(left, ['vda', 'vdb']);
  await conn.close();
});

test('contradiction check: dumped XML edited to another source/model/tap is refused, nothing removed', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'm6', devices: nic('52:54:00:00:00:01') }));
  await dom.create();
  const dumped = devicesOf(await dom.getXMLDesc(), 'interface')[0]!;
  const before = await dom.getXMLDesc();
  await rejectsWith(dom.detachDevice(dumped.replace("bridge='br0'", "bridge='br9'")), ErrorCode.INVALID_ARG, /source is 'br9'/);
  await rejectsWith(dom.detachDevice(dumped.replace("type='virtio'", "type='e1000'")), ErrorCode.INVALID_ARG, /model/);
  await rejectsWith(dom.detachDevice(dumped.replace(/vnet\d+/, 'vnet4242')), ErrorCode.INVALID_ARG, /target dev/);
  await rejectsWith(dom.detachDevice(dumped.replace("name='net0'", "name='net5'")), ErrorCode.DEVICE_MISSING);
  assert.equal(await dom.getXMLDesc(), before);
  assert.equal((await dom.detachDevice(dumped)).outcome, 'removed');
  await conn.close();
});

test('a dumped live disk detaches exactly that disk; stale names from another run do not pin a device', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'm7', devices: `<disk type='file'><source file='/img/b.img'/><target dev='vdb'/></disk>` }));
  await dom.create();
  const disk = devicesOf(await dom.getXMLDesc(), 'disk')[1]!;
  assert.match(disk, /virtio-disk1/);
  await dom.detachDevice(disk);
  assert.deepEqual(
    devicesOf(await dom.getXMLDesc(), 'disk').map((d) => parsed(d).child('target')?.attr('dev')),
    ['vda'],
  );
  await conn.close();
});

function xmlAttrs(addr: ReturnType<typeof parsed>): string {
  return `<address ${addr.attrs.map(([k, v]) => `${k}='${v}'`).join(' ')}/>`;
}
