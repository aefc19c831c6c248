/**
 * Issue 11, one identity everywhere: a LIVE|CONFIG attach gives both definitions the same MAC and PCI
 * address (also on q35, where the definition would otherwise get a new root port); the device comes
 * back in its slot after a restart; persistDevice and a config attach of the dumped live XML keep MAC
 * and slot; define can reserve hot-plug slots; running out says how to reserve more.
 */
import assert from 'node:assert/strict';
import { DeviceModify, DomainXML, ErrorCode, isVirtError } from '../../src/index.js';
import { devicesOf, domainXml, rejectsWith } from '../core/helpers.js';
import { contractTest } from './harness.js';

const local = (t: { hotplugContract: boolean }) => t.hotplugContract;
const nic = `<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>`;

/** MAC and PCI address of each interface, by alias when live. */
function identities(domXml: string): { mac: string; address: string }[] {
  return devicesOf(domXml, 'interface').map((n) => ({
    mac: /<mac address='([^']+)'/.exec(n)![1]!,
    address: /<address type='pci'[^>]*\/>/.exec(n)![0],
  }));
}
const rootPorts = (domXml: string) => (domXml.match(/model='pcie-root-port'/g) ?? []).length;

contractTest(
  'LIVE|CONFIG attach: one MAC and one PCI address in both definitions, kept across a restart (pc and q35)',
  async (c) => {
    const conn = await c.open();
    for (const machine of ['pc', 'q35']) {
      const dom = await conn.defineXML(c.domain(domainXml({ name: `one-${machine}`, machine, devices: nic })));
      await dom.create();
      await dom.attachDeviceFlags(c.device(nic), DeviceModify.LIVE | DeviceModify.CONFIG);
      const live = identities(await dom.getXMLDesc());
      const config = identities(await dom.getXMLDesc(DomainXML.INACTIVE));
      assert.equal(live.length, 2);
      assert.deepEqual(config, live, `${machine}: same MAC and address in both`);
      await dom.destroy();
      await dom.create();
      assert.deepEqual(identities(await dom.getXMLDesc()), live, `${machine}: the same slots after a restart`);
    }
  },
  local,
);

contractTest(
  'define with hotplugSlots reserves free pcie-root-ports on q35; a plain define stays libvirt\'s; running out says how to reserve more',
  async (c) => {
    const conn = await c.open();
    const plain = await conn.defineXML(c.domain(domainXml({ name: 'plain', machine: 'q35', devices: nic })));
    const reserved = await conn.defineXML(c.domain(domainXml({ name: 'reserved', machine: 'q35', devices: nic })), { hotplugSlots: 4 });
    const before = rootPorts(await plain.getXMLDesc(DomainXML.INACTIVE));
    assert.ok(rootPorts(await reserved.getXMLDesc(DomainXML.INACTIVE)) >= before + 3, 'ports were added');
    await reserved.create();
    const flags = DeviceModify.LIVE | DeviceModify.CONFIG;
    for (let i = 0; i < 4; i++) await reserved.attachDeviceFlags(c.device(nic), flags);
    const live = identities(await reserved.getXMLDesc());
    assert.equal(live.length, 5);
    assert.equal(new Set(live.map((x) => x.address)).size, 5);
    assert.deepEqual(identities(await reserved.getXMLDesc(DomainXML.INACTIVE)), live);
    await assert.rejects(reserved.attachDeviceFlags(c.device(nic), DeviceModify.LIVE), (err: unknown) => {
      assert.ok(isVirtError(err) && err.code === ErrorCode.INTERNAL_ERROR, String(err));
      assert.match(err.message, /^internal error: No more available PCI slots: a running q35 domain can only use the free pcie-root-ports it was started with: reserve some with 'virtkit define FILE --hotplug-slots N'/);
      assert.equal((err as { reason?: string }).reason, 'no-free-hotplug-slot');
      return true;
    });
    // The plain define has libvirt's single spare: one live attach, then the same distinct error.
    await plain.create();
    await plain.attachDeviceFlags(c.device(nic), DeviceModify.LIVE);
    await rejectsWith(plain.attachDeviceFlags(c.device(nic), DeviceModify.LIVE), ErrorCode.INTERNAL_ERROR, /--hotplug-slots N/);
    // Bad values and other domain types.
    await rejectsWith(conn.defineXML(domainXml({ name: 'bad', machine: 'q35' }), { hotplugSlots: -1 }), ErrorCode.INVALID_ARG, /hotplugSlots .* from 0 to 64/);
    await rejectsWith(conn.defineXML(domainXml({ name: 'bad', machine: 'q35' }), { slots: 1 } as never), ErrorCode.INVALID_ARG, /unknown define option 'slots'/);
    await rejectsWith(conn.defineXML(domainXml({ name: 'xen', type: 'xen' }), { hotplugSlots: 1 }), ErrorCode.CONFIG_UNSUPPORTED, /qemu and kvm domains/);
    // pc: the free slots of pci.0 are only checked.
    const pc = await conn.defineXML(domainXml({ name: 'pc', machine: 'pc' }), { hotplugSlots: 8 });
    assert.equal(rootPorts(await pc.getXMLDesc(DomainXML.INACTIVE)), 0);
    await rejectsWith(conn.defineXML(domainXml({ name: 'pc2', machine: 'pc' }), { hotplugSlots: 40 }), ErrorCode.CONFIG_UNSUPPORTED, /PCI slots of pci\.0 are free/);
  },
  local,
);

contractTest(
  'a live-only device made persistent keeps MAC and slot: persistDevice, or a config attach of its dumped live XML',
  async (c) => {
    const conn = await c.open();
    const dom = await conn.defineXML(c.domain(domainXml({ name: 'persist', machine: 'q35', devices: nic })), { hotplugSlots: 2 });
    await dom.create();
    // libvirt's two-call pattern without a MAC gives the copies two MACs.
    await dom.attachDeviceFlags(c.device(nic), DeviceModify.LIVE);
    await dom.attachDeviceFlags(c.device(nic), DeviceModify.CONFIG);
    const [, twoCallsLive] = identities(await dom.getXMLDesc());
    const [, twoCallsConfig] = identities(await dom.getXMLDesc(DomainXML.INACTIVE));
    assert.notEqual(twoCallsLive!.mac, twoCallsConfig!.mac, "libvirt's way: two MACs");
    await dom.detachDeviceFlags(devicesOf(await dom.getXMLDesc(), 'interface')[1]!, DeviceModify.LIVE);
    await dom.detachDeviceFlags(devicesOf(await dom.getXMLDesc(DomainXML.INACTIVE), 'interface')[1]!, DeviceModify.CONFIG);

    // persistDevice.
    const { alias } = await dom.attachDeviceFlags(c.device(nic), DeviceModify.LIVE);
    await dom.persistDevice(alias!);
    const live = identities(await dom.getXMLDesc());
    assert.deepEqual(identities(await dom.getXMLDesc(DomainXML.INACTIVE)), live);
    await rejectsWith(dom.persistDevice(alias!), ErrorCode.OPERATION_INVALID, /already in the persistent definition/);
    await rejectsWith(dom.persistDevice('net9'), ErrorCode.DEVICE_MISSING);

    // The dumped live XML attached with CONFIG (the CLI's `attach-device --config`).
    const second = await dom.attachDeviceFlags(c.device(nic), DeviceModify.LIVE);
    const dumped = devicesOf(await dom.getXMLDesc(), 'interface').find((n) => n.includes(`<alias name='${second.alias}'/>`))!;
    await dom.attachDeviceFlags(dumped, DeviceModify.CONFIG);
    const live3 = identities(await dom.getXMLDesc());
    assert.deepEqual(identities(await dom.getXMLDesc(DomainXML.INACTIVE)), live3);
    await dom.destroy();
    await dom.create();
    assert.deepEqual(identities(await dom.getXMLDesc()), live3, 'every device back in its slot');
    // A transient domain has no definition to persist into.
    const t = await conn.createXML(c.domain(domainXml({ name: 'transient', devices: nic })));
    await rejectsWith(t.persistDevice('net0'), ErrorCode.OPERATION_INVALID, /transient/);
  },
  local,
);
