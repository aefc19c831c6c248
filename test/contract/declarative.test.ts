/**
 * Issue 11, declarative devices over the typed API: planDevices compares a desired domain XML with
 * the current definitions and lists the hot-plug calls (with their flags) that make the devices equal;
 * applyDevices runs them (detaches, updates, attaches), stops at the first failure and reports each
 * outcome; what no hot-plug call can change is `needsRestart` and never applied. Over libvirt's
 * protocol both are refused.
 */
import assert from 'node:assert/strict';
import { type Connection, DeviceModify, type Domain, DomainXML, ErrorCode, type DevicePlan } from '../../src/index.js';
import { devicesOf, domainXml, rejectsWith } from '../core/helpers.js';
import { contractTest } from './harness.js';

const local = (t: { hotplugContract: boolean; simulatedGuest: boolean }) => t.hotplugContract && t.simulatedGuest;
const LC = DeviceModify.LIVE | DeviceModify.CONFIG;

const nic = (mac: string, extra = '') => `<interface type='network'><mac address='${mac}'/><source network='default'/><model type='virtio'/>${extra}</interface>`;
const disk = (dev: string, file = `/images/${dev}.img`) => `<disk type='file' device='disk'><source file='${file}'/><target dev='${dev}' bus='virtio'/></disk>`;
const cdrom = (file?: string) => `<disk type='file' device='cdrom'>${file ? `<source file='${file}'/>` : ''}<target dev='sdb' bus='scsi'/><readonly/></disk>`;

/** A pc domain of type qemu (the QEMU driver's normalization) with one disk and one NIC. */
function base(name: string, devices = '', metadata?: string): string {
  return domainXml({ name, machine: 'pc', devices: nic('52:54:00:00:00:01') + devices, ...(metadata ? { metadata } : {}) });
}
const withDevices = (xml: string, devices: string) => xml.replace('</devices>', `${devices}</devices>`);

function summary(plan: DevicePlan): string[] {
  return plan.operations.map((o) => `${o.action} ${o.device} ${o.flags}`);
}

/** The devices of a domain XML, without runtime names and addresses (for "equal to desired, device-wise"). */
function deviceSet(xml: string): string[] {
  const out: string[] = [];
  for (const kind of ['disk', 'interface']) {
    for (const d of devicesOf(xml, kind)) {
      out.push(d.replace(/\s*<alias [^>]*\/>/g, '').replace(/\s*<address [^>]*\/>/g, '').replace(/\s*<target dev='vnet\d+'\/>/g, '').replace(/\s+/g, ' '));
    }
  }
  return out.sort();
}

async function running(conn: Connection, xml: string): Promise<Domain> {
  const dom = await conn.defineXML(xml);
  await dom.create();
  return dom;
}

contractTest(
  'identical XML: an empty plan, from the defining XML, the inactive dump and the live dump',
  async (c) => {
    const conn = await c.open();
    const xml = base('same', disk('vdb'));
    const dom = await running(conn, xml);
    for (const desired of [xml, await dom.getXMLDesc(DomainXML.INACTIVE), await dom.getXMLDesc()]) {
      const plan = await dom.planDevices(desired);
      assert.deepEqual(plan.operations, []);
      assert.deepEqual(plan.needsRestart, []);
      assert.equal(plan.active, true);
      assert.equal(plan.persistent, true);
    }
  },
  local,
);

contractTest(
  'one NIC and one disk more: exactly two LIVE|CONFIG attaches, no restart; applied, the domain equals the desired XML device-wise',
  async (c) => {
    const conn = await c.open();
    const xml = base('grow');
    const dom = await running(conn, xml);
    const desired = withDevices(xml, nic('52:54:00:00:00:02') + disk('vdb'));
    const before = await dom.getXMLDesc();
    const plan = await dom.planDevices(desired);
    assert.deepEqual(summary(plan), [`attach disk ${LC}`, `attach interface ${LC}`]);
    assert.deepEqual(plan.needsRestart, []);
    assert.equal(await dom.getXMLDesc(), before, 'planning changes nothing');

    const result = await dom.applyDevices(desired);
    assert.equal(result.ok, true);
    assert.deepEqual(result.results.map((r) => r.status), ['done', 'done']);
    assert.deepEqual(result.results.map((r) => r.alias), ['virtio-disk1', 'net1']);
    const live = await dom.getXMLDesc();
    const config = await dom.getXMLDesc(DomainXML.INACTIVE);
    assert.equal(deviceSet(live).length, 4);
    assert.deepEqual(deviceSet(config), deviceSet(live), 'both definitions agree (one identity)');
    for (const x of [live, config]) {
      assert.ok(devicesOf(x, 'interface').some((n) => n.includes("<mac address='52:54:00:00:00:02'/>")));
      assert.ok(devicesOf(x, 'disk').some((d) => d.includes("<source file='/images/vdb.img'/>") && d.includes("<target dev='vdb' bus='virtio'/>")));
    }
    const again = await dom.planDevices(desired);
    assert.deepEqual(again.operations, [], 'applied: nothing left to do');
    // And back: two LIVE|CONFIG detaches, both removed (the simulated guest acknowledges).
    const back = await dom.applyDevices(xml);
    assert.deepEqual(back.results.map((r) => `${r.operation.action} ${r.operation.device} ${r.status}`), ['detach disk removed', 'detach interface removed']);
    assert.equal(back.results[1]!.outcome?.status, 'removed');
    assert.deepEqual(deviceSet(await dom.getXMLDesc()), deviceSet(before));
    assert.deepEqual((await dom.planDevices(xml)).operations, []);
  },
  local,
);

contractTest(
  'flags follow the domain: CONFIG when stopped, LIVE when transient; a device in one definition only gets the other with the same MAC',
  async (c) => {
    const conn = await c.open();
    const xml = base('flags');
    const stopped = await conn.defineXML(xml);
    const desired = withDevices(xml, nic('52:54:00:00:00:02'));
    assert.deepEqual(summary(await stopped.planDevices(desired)), [`attach interface ${DeviceModify.CONFIG}`]);
    const transient = await conn.createXML(base('transient'));
    assert.deepEqual(summary(await transient.planDevices(withDevices(base('transient'), disk('vdc')))), [`attach disk ${DeviceModify.LIVE}`]);
    const t = await transient.applyDevices(withDevices(base('transient'), disk('vdc')));
    assert.equal(t.ok, true);
    // Live-only NIC (attached without a MAC): the desired XML keeps it, so the definition gets it with its MAC.
    await stopped.create();
    await stopped.attachDeviceFlags(`<interface type='network'><source network='default'/><model type='virtio'/></interface>`, DeviceModify.LIVE);
    const liveXml = await stopped.getXMLDesc();
    const mac = /<mac address='([^']+)'/g;
    const macs = [...liveXml.matchAll(mac)].map((m) => m[1]);
    assert.equal(macs.length, 2);
    const plan = await stopped.planDevices(liveXml);
    assert.deepEqual(summary(plan), [`attach interface ${DeviceModify.CONFIG}`]);
    assert.equal(plan.operations[0]!.reason, 'only in the running definition');
    assert.ok((await stopped.applyDevices(liveXml)).ok);
    assert.deepEqual([...(await stopped.getXMLDesc(DomainXML.INACTIVE)).matchAll(mac)].map((m) => m[1]), macs, 'same MACs in the definition');
  },
  local,
);

contractTest(
  'updatable fields are updates: link state, removable media; other changes replace the device',
  async (c) => {
    const conn = await c.open();
    const xml = base('upd', cdrom('/iso/a.iso') + `<controller type='scsi' model='virtio-scsi'/>`);
    const dom = await running(conn, xml);
    const desired = xml.replace("<model type='virtio'/></interface>", "<model type='virtio'/><link state='down'/></interface>").replace('/iso/a.iso', '/iso/b.iso');
    const plan = await dom.planDevices(desired);
    assert.deepEqual(plan.operations.map((o) => [o.action, o.device, o.flags, o.reason]), [
      ['update', 'disk', LC, 'media /iso/a.iso -> /iso/b.iso'],
      ['update', 'interface', LC, 'link state up -> down'],
    ]);
    assert.ok((await dom.applyDevices(desired)).ok);
    for (const flags of [0, DomainXML.INACTIVE]) {
      const now = await dom.getXMLDesc(flags);
      assert.match(now, /<link state='down'\/>/);
      assert.match(now, /\/iso\/b\.iso/);
    }
    assert.deepEqual((await dom.planDevices(desired)).operations, []);
    // A changed disk source (not removable): detach, then attach.
    const moved = desired.replace('/var/lib/virtkit/upd.img', '/var/lib/virtkit/other.img');
    assert.deepEqual((await dom.planDevices(moved)).operations.map((o) => `${o.action} ${o.device} ${o.reason}`), [
      'detach disk replaced: source differs',
      'attach disk replaced: source differs',
    ]);
  },
  local,
);

contractTest(
  'what hot-plug cannot change is needs-restart and never applied: memory, vcpus, machine type, an ide disk, video',
  async (c) => {
    const conn = await c.open();
    const xml = base('restart', `<graphics type='vnc'/>`);
    const dom = await running(conn, xml);
    const live = await dom.getXMLDesc();
    const config = await dom.getXMLDesc(DomainXML.INACTIVE);
    const memory = xml.replace("<memory unit='MiB'>128</memory>", "<memory unit='MiB'>256</memory><currentMemory unit='MiB'>128</currentMemory>");
    const plan = await dom.planDevices(memory);
    assert.deepEqual(plan.operations, []);
    assert.deepEqual(plan.needsRestart.map((e) => [e.what, e.current, e.desired]), [['memory', '131072 KiB', '262144 KiB']]);
    const applied = await dom.applyDevices(memory);
    assert.deepEqual(applied.results, []);
    assert.equal(applied.ok, true);
    assert.equal(await dom.getXMLDesc(), live);
    assert.equal(await dom.getXMLDesc(DomainXML.INACTIVE), config);

    const many = withDevices(xml.replace("machine='pc'", "machine='q35'").replace('<os>', '<vcpu>2</vcpu><os>'), `<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk><video><model type='vga'/></video><controller type='usb' index='0' model='qemu-xhci'/>`);
    const all = await dom.planDevices(many);
    assert.deepEqual(all.operations, []);
    assert.deepEqual(all.needsRestart.map((e) => e.what), ['vcpus', 'machine type', 'disk hdc', 'controller usb usb:0', 'video video0']);
    assert.match(all.needsRestart[3]!.reason, /replaced: model.*controllers are not replaced/);
    assert.match(all.needsRestart[2]!.reason, /does not support hotplugging.*define the desired XML, then restart/);
    await dom.applyDevices(many);
    assert.equal(await dom.getXMLDesc(), live, 'nothing applied');
    // Stopped: not devices, define changes them.
    await dom.destroy();
    const stopped = await dom.planDevices(memory);
    assert.match(stopped.needsRestart[0]!.reason, /define the desired XML/);
  },
  local,
);

contractTest(
  'a failing call stops the apply: the failure is reported, the rest skipped, nothing after it applied',
  async (c) => {
    const conn = await c.open();
    const guest = `<vkt:unplug xmlns:vkt='urn:virtkit:test' ack='reject'/>`;
    const xml = base('fails', '', guest);
    const dom = await running(conn, xml);
    // Drop the NIC (the guest refuses the unplug), add a disk.
    const desired = withDevices(xml.replace(nic('52:54:00:00:00:01'), ''), disk('vdb'));
    const r = await dom.applyDevices(desired, { waitMs: 2000 });
    assert.equal(r.ok, false);
    assert.deepEqual(r.results.map((x) => `${x.operation.action} ${x.status}`), ['detach failed', 'attach skipped']);
    assert.equal(r.results[0]!.error?.code, ErrorCode.OPERATION_FAILED);
    assert.match(r.results[0]!.error!.message, /rejected by the guest/);
    assert.doesNotMatch(await dom.getXMLDesc(), /vdb/);
    assert.match(await dom.getXMLDesc(DomainXML.INACTIVE), /52:54:00:00:00:01/);
  },
  local,
);

contractTest(
  'a guest that does not answer: the detach is reported pending with the contract\'s outcome, and listed',
  async (c) => {
    const conn = await c.open();
    const xml = base('slow', '', `<vkt:unplug xmlns:vkt='urn:virtkit:test' ack='never'/>`);
    const dom = await running(conn, xml);
    const r = await dom.applyDevices(xml.replace(nic('52:54:00:00:00:01'), ''), { waitMs: 0 });
    assert.equal(r.ok, true);
    assert.equal(r.results[0]!.status, 'pending');
    assert.equal(r.results[0]!.outcome?.reason, 'guest-not-acknowledging');
    assert.deepEqual((await dom.pendingDevices()).map((p) => [p.alias, p.requestId]), [['net0', r.results[0]!.outcome!.requestId]]);
    // Applying again joins the pending request (no second unplug).
    const again = await dom.applyDevices(xml.replace(nic('52:54:00:00:00:01'), ''), { waitMs: 0 });
    assert.equal(again.results[0]!.outcome?.requestId, r.results[0]!.outcome!.requestId);
  },
  local,
);

contractTest(
  'bad input: wrong domain, bad XML, bad options are INVALID_ARG / XML errors naming the part; nothing changes',
  async (c) => {
    const conn = await c.open();
    const dom = await running(conn, base('args'));
    const before = [await dom.getXMLDesc(), await dom.getXMLDesc(DomainXML.INACTIVE)];
    await rejectsWith(dom.planDevices(base('other')), ErrorCode.INVALID_ARG, /describes domain 'other', not 'args'/);
    await rejectsWith(dom.planDevices(base('args').replace('<name>args</name>', '<name>args</name><uuid>00000000-0000-0000-0000-000000000001</uuid>')), ErrorCode.INVALID_ARG, /UUID/);
    await rejectsWith(dom.planDevices('<domain'), ErrorCode.XML_DETAIL);
    await rejectsWith(dom.planDevices(42 as unknown as string), ErrorCode.INVALID_ARG, /desiredXml in planDevices must be a string/);
    await rejectsWith(dom.applyDevices(base('args'), { wait: 1 } as never), ErrorCode.INVALID_ARG, /unknown apply option 'wait'/);
    await rejectsWith(dom.applyDevices(base('args'), { waitMs: -1 }), ErrorCode.INVALID_ARG, /waitMs/);
    await rejectsWith(dom.applyDevices(base('args'), 'x' as never), ErrorCode.INVALID_ARG, /options in applyDevices must be an object/);
    const hostile: unknown[] = [undefined, null, Number.NaN, 1.5, -1, 5n, Symbol('v'), {}, [], () => 1, Object.create(null), { toString: () => { throw new Error('toString'); } }];
    for (const v of hostile) {
      await rejectsWith(dom.planDevices(v as string), ErrorCode.INVALID_ARG, /desiredXml in planDevices must be a string \(or UTF-8 bytes\)/);
      await rejectsWith(dom.applyDevices(v as string), ErrorCode.INVALID_ARG, /desiredXml in applyDevices must be a string/);
      if (v !== undefined) await rejectsWith(dom.applyDevices(base('args'), { waitMs: v as number }), ErrorCode.INVALID_ARG, /waitMs must be an integer number of milliseconds/);
    }
    await rejectsWith(dom.applyDevices(base('args'), { waitMs: 3_600_001 }), ErrorCode.INVALID_ARG, /from 0 to 3600000, got 3600001/);
    await rejectsWith(dom.planDevices(new Uint8Array([0x3c, 0xff])), ErrorCode.XML_DETAIL);
    assert.deepEqual([await dom.getXMLDesc(), await dom.getXMLDesc(DomainXML.INACTIVE)], before);
  },
  local,
);

contractTest(
  'over libvirt\'s protocol: planDevices and applyDevices are refused clearly',
  async (c) => {
    const conn = await c.open();
    const dom = await conn.lookupByName('test');
    const xml = await dom.getXMLDesc(DomainXML.INACTIVE);
    await rejectsWith(dom.planDevices(xml), ErrorCode.NO_SUPPORT, /planDevices: virtkit's hot-plug contract needs a driver that runs the domains/);
    await rejectsWith(dom.applyDevices(xml), ErrorCode.NO_SUPPORT, /applyDevices/);
  },
  (t) => !t.hotplugContract,
);
