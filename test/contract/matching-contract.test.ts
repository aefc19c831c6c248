/**
 * Issue 11, matching explained: the contract's rules (alias, then address, then MAC, then target dev,
 * then content), the dumped live XML of every device naming exactly that device, ambiguity errors
 * listing every candidate; libvirt's calls keep libvirt's matching.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conf, DeviceModify, DomainXML, ErrorCode, xml } from '../../src/index.js';
import { findDeviceByContract } from '../../src/conf/match-contract.js';
import { devicesOf, domainXml, rejectsWith } from '../core/helpers.js';
import { contractTest } from './harness.js';

const MAC = '52:54:00:aa:bb:cc';
const sameMacNics = `
  <interface type='bridge'><mac address='${MAC}'/><source bridge='br0'/><model type='virtio'/></interface>
  <interface type='bridge'><mac address='${MAC}'/><source bridge='br1'/><model type='virtio'/></interface>`;

const rich = `
  <disk type='file' device='disk'><source file='/img/b.img'/><target dev='vdb' bus='virtio'/></disk>
  <disk type='file' device='cdrom'><source file='/iso/a.iso'/><target dev='sda' bus='sata'/><readonly/></disk>
  <interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>
  <interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>
  <interface type='network'><source network='default'/><model type='e1000'/></interface>
  <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  <rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>
  <watchdog model='i6300esb'/>`;

test('the dumped live XML of every device names exactly that device (and only by the contract when the content is alike)', async () => {
  const { Connection } = await import('../../src/index.js');
  const conn = await Connection.open('test:///default');
  try {
    const dom = await conn.defineXML(domainXml({ name: 'rich', devices: rich + sameMacNics }));
    await dom.create();
    const live = xml.parseXml(await dom.getXMLDesc());
    const def = new conf.DomainDef(live);
    const devices = def.deviceElements().filter((d) => ['disk', 'interface', 'rng', 'watchdog', 'controller', 'input', 'memballoon'].includes(d.name));
    assert.ok(devices.length >= 12, `${devices.length} devices`);
    for (const dev of devices) {
      const { el, macGenerated } = conf.parseDeviceXml(xml.serializeXml(dev), def.type, 'detach');
      assert.equal(findDeviceByContract(def, el, { macGenerated }), dev, `${dev.name} ${conf.readAlias(dev)}`);
    }
  } finally {
    await conn.close();
  }
});

contractTest('alias first, then address, then MAC, then target dev; other stated fields must agree', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'm1', devices: rich })));
  await dom.create();
  const nics = devicesOf(await dom.getXMLDesc(), 'interface');
  const addr = (n: string) => /<address type='pci'[^>]*\/>/.exec(n)![0];
  const mac = (n: string) => /<mac address='([^']+)'/.exec(n)![1]!;
  // Alias alone.
  let r = await dom.detachDeviceFlags(c.device(`<interface type='bridge'><alias name='net1'/></interface>`), DeviceModify.LIVE, {});
  assert.deepEqual([r.status, r.alias], ['removed', 'net1']);
  // Address alone (net0's).
  r = await dom.detachDeviceFlags(c.device(`<interface type='bridge'>${addr(nics[0]!)}</interface>`), DeviceModify.LIVE, {});
  assert.equal(r.alias, 'net0');
  // An alias and a MAC that name different devices: an error naming the disagreement, nothing detached.
  await rejectsWith(
    dom.detachDeviceFlags(c.device(`<interface type='network'><mac address='00:16:3e:00:00:01'/><alias name='net2'/></interface>`), DeviceModify.LIVE, {}),
    ErrorCode.INVALID_ARG,
    /its alias names \(net2 .*\): MAC is '00:16:3e:00:00:01' in the XML but '[0-9a-f:]+' in the domain/,
  );
  // MAC alone.
  r = await dom.detachDeviceFlags(c.device(`<interface type='network'><mac address='${mac(nics[2]!)}'/></interface>`), DeviceModify.LIVE, {});
  assert.equal(r.alias, 'net2');
  // Disk by target dev; a SATA CD-ROM (not hot-unpluggable) by its drive address, in the definition.
  r = await dom.detachDeviceFlags(c.device(`<disk type='file' device='disk'><target dev='vdb'/></disk>`), DeviceModify.LIVE | DeviceModify.CONFIG, {});
  assert.equal(r.alias, 'virtio-disk1');
  assert.equal(devicesOf(await dom.getXMLDesc(DomainXML.INACTIVE), 'disk').length, 2);
  const cd = devicesOf(await dom.getXMLDesc(), 'disk').find((d) => d.includes("device='cdrom'"))!;
  const drive = /<address type='drive'[^>]*\/>/.exec(cd)![0];
  r = await dom.detachDeviceFlags(c.device(`<disk type='file' device='cdrom'><target dev='sda' bus='sata'/>${drive}</disk>`), DeviceModify.CONFIG, {});
  assert.equal(r.status, 'removed');
  assert.equal(devicesOf(await dom.getXMLDesc(DomainXML.INACTIVE), 'disk').length, 1);
  // Missing: DEVICE_MISSING naming the rule.
  await rejectsWith(dom.detachDeviceFlags(c.device(`<interface type='bridge'><alias name='net9'/></interface>`), DeviceModify.LIVE, {}), ErrorCode.DEVICE_MISSING, /no <interface> with alias 'net9'/);
}, (t) => t.hotplugContract);

contractTest('ambiguity lists every candidate with alias and address; libvirt\'s calls keep libvirt\'s message', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'm2', devices: rich + sameMacNics })));
  await dom.create();
  const byMac = `<interface type='bridge'><mac address='${MAC}'/></interface>`;
  await rejectsWith(dom.detachDeviceFlags(c.device(byMac), DeviceModify.LIVE), ErrorCode.OPERATION_FAILED, /^operation failed: multiple devices matching MAC address 52:54:00:aa:bb:cc found$/);
  await rejectsWith(
    dom.detachDeviceFlags(c.device(byMac), DeviceModify.LIVE, {}),
    ErrorCode.OPERATION_FAILED,
    /<interface> XML is ambiguous: MAC '52:54:00:aa:bb:cc' matches 2 devices: net3 \(pci 0000:00:0.\.0, MAC 52:54:00:aa:bb:cc, target vnet\d+\); net4 \(pci 0000:00:0.\.0, MAC 52:54:00:aa:bb:cc, target vnet\d+\); name one by its alias or address/,
  );
  // By content: two NICs alike.
  await rejectsWith(
    dom.detachDeviceFlags(c.device(`<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>`), DeviceModify.LIVE, {}),
    ErrorCode.OPERATION_FAILED,
    /ambiguous: its content matches 3 devices: net0 .*; net1 .*; net3 /,
  );
  await rejectsWith(
    dom.detachDeviceFlags(c.device(`<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>`), DeviceModify.LIVE, {}),
    ErrorCode.OPERATION_FAILED,
    /<rng> XML is ambiguous: its content matches 2 devices: rng0 \(pci [^)]+\); rng1 \(pci [^)]+\)/,
  );
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 5, 'nothing detached');
  // Unique content is fine.
  const r = await dom.detachDeviceFlags(c.device(`<interface type='bridge'><source bridge='br1'/></interface>`), DeviceModify.LIVE, {});
  assert.equal(r.alias, 'net4');
}, (t) => t.hotplugContract);
