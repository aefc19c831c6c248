/** Events (typed listeners and async iterator) and a simulated guest that answers unplugs late, never, or refuses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Connection, type DomainEvent, DomainXML, ErrorCode, LifecycleEvent } from '../../src/index.js';
import { bridgeNic, devicesOf, domainXml, freshConnection, rejectsWith } from './helpers.js';

const unplugMeta = (ack: string, delay?: number) =>
  `<vkt:unplug xmlns:vkt='urn:virtkit:test' ack='${ack}'${delay === undefined ? '' : ` delay-ms='${delay}'`}/>`;

test('lifecycle events arrive for define, start, suspend, resume, destroy, undefine', async () => {
  const conn = await freshConnection();
  const seen: string[] = [];
  const off = await conn.on('lifecycle', (e) => seen.push(`${e.domain.name}:${e.event}:${e.detail}`));
  const dom = await conn.defineXML(domainXml({ name: 'ev1' }));
  await dom.create();
  await dom.suspend();
  await dom.resume();
  await dom.destroy();
  await dom.undefine();
  await off();
  await conn.defineXML(domainXml({ name: 'ev-after-off' }));
  const L = LifecycleEvent;
  assert.deepEqual(seen, [`ev1:${L.DEFINED}:0`, `ev1:${L.STARTED}:0`, `ev1:${L.SUSPENDED}:0`, `ev1:${L.RESUMED}:0`, `ev1:${L.STOPPED}:1`, `ev1:${L.UNDEFINED}:0`]);
  await conn.close();
});

test('device-added / device-removed through the async iterator, filtered by domain', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'ev2' }));
  await dom.create();
  const it = conn.events({ domain: 'ev2', types: ['device-added', 'device-removed'] });
  const { alias } = await dom.attachDevice(bridgeNic);
  await dom.detachDevice(devicesOf(await dom.getXMLDesc(), 'interface')[0]!);
  const a = (await it.next()).value as DomainEvent;
  const b = (await it.next()).value as DomainEvent;
  assert.deepEqual([a.type, b.type], ['device-added', 'device-removed']);
  assert.equal(alias, 'net0');
  assert.deepEqual([(a as { alias: string }).alias, (b as { alias: string }).alias], ['net0', 'net0']);
  await it.return?.();
  assert.deepEqual(await it.next(), { value: undefined, done: true });
  await conn.close();
});

test('guest answering within the wait: detach returns removed after the delay', async () => {
  // A generous wait: the guest answers after 50 ms, the wait only has to outlast a busy machine.
  const conn = await Connection.open('test:///default?unplugTimeout=10000');
  const dom = await conn.defineXML(domainXml({ name: 'ev3', devices: bridgeNic, metadata: unplugMeta('delay', 50) }));
  await dom.create();
  const r = await dom.detachDevice(devicesOf(await dom.getXMLDesc(), 'interface')[0]!);
  assert.deepEqual(r, { outcome: 'removed', alias: 'net0' });
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 0);
  await conn.close();
});

test('guest answering after the wait: "request sent", device stays until the event, config already changed', async () => {
  const conn = await Connection.open('test:///default?unplugTimeout=30');
  const dom = await conn.defineXML(domainXml({ name: 'ev4', devices: bridgeNic, metadata: unplugMeta('delay', 250) }));
  await dom.create();
  let resolveRemoved!: (e: DomainEvent) => void;
  const removed = new Promise<DomainEvent>((resolve) => {
    resolveRemoved = resolve;
  });
  const off = await conn.on('device-removed', (e) => {
    void off();
    resolveRemoved(e);
  });
  const nic = devicesOf(await dom.getXMLDesc(), 'interface')[0]!;
  const r = await dom.detachDeviceFlags(nic, 3);
  assert.deepEqual(r, { outcome: 'pending', alias: 'net0' });
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 1, 'still in live XML while pending');
  assert.equal(devicesOf(await dom.getXMLDesc(DomainXML.INACTIVE), 'interface').length, 0, 'config detached');
  // A second request for the same device fails, as QEMU refuses a second device_del.
  await rejectsWith(dom.detachDevice(nic), ErrorCode.OPERATION_FAILED, /already in progress/);
  const e = await removed;
  assert.equal(e.type, 'device-removed');
  assert.equal((e as { alias: string }).alias, 'net0');
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 0);
  await conn.close();
});

test('guest that never answers: pending forever, alias detach returns at once', async () => {
  const conn = await Connection.open('test:///default?unplugTimeout=20');
  const dom = await conn.defineXML(
    domainXml({ name: 'ev5', devices: bridgeNic + `<disk type='file'><source file='/x'/><target dev='vdb'/></disk>`, metadata: unplugMeta('never') }),
  );
  await dom.create();
  assert.equal((await dom.detachDevice(devicesOf(await dom.getXMLDesc(), 'interface')[0]!)).outcome, 'pending');
  assert.deepEqual(await dom.detachDeviceAlias('virtio-disk1'), { outcome: 'pending', alias: 'virtio-disk1' });
  await new Promise((r) => setTimeout(r, 60));
  const live = await dom.getXMLDesc();
  assert.equal(devicesOf(live, 'interface').length, 1);
  assert.equal(devicesOf(live, 'disk').length, 2);
  // Stopping the domain ends the story; nothing is left pending.
  await dom.destroy();
  await dom.create();
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 1, 'config still has the NIC (live-only detach)');
  await conn.close();
});

test('guest that refuses: error while waiting, device-removal-failed, config untouched', async () => {
  const conn = await Connection.open('test:///default?unplugTimeout=10000');
  const dom = await conn.defineXML(domainXml({ name: 'ev6', devices: bridgeNic, metadata: unplugMeta('reject', 20) }));
  await dom.create();
  let onFailed!: (e: DomainEvent) => void;
  const failed = new Promise<DomainEvent>((resolve) => {
    onFailed = resolve;
  });
  await conn.on('device-removal-failed', (e) => onFailed(e));
  await rejectsWith(dom.detachDeviceFlags(devicesOf(await dom.getXMLDesc(), 'interface')[0]!, 3), ErrorCode.OPERATION_FAILED, /rejected by the guest/);
  assert.equal((await failed).type, 'device-removal-failed');
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 1);
  assert.equal(devicesOf(await dom.getXMLDesc(DomainXML.INACTIVE), 'interface').length, 1);
  await conn.close();
});

test('a refusal after the wait only shows as the event; the device stays', async () => {
  const conn = await Connection.open('test:///default?unplugTimeout=10');
  const dom = await conn.defineXML(domainXml({ name: 'ev7', devices: bridgeNic, metadata: unplugMeta('reject', 80) }));
  await dom.create();
  let onFailed!: (e: DomainEvent) => void;
  const failed = new Promise<DomainEvent>((resolve) => {
    onFailed = resolve;
  });
  await conn.on('device-removal-failed', (e) => onFailed(e));
  assert.equal((await dom.detachDevice(devicesOf(await dom.getXMLDesc(), 'interface')[0]!)).outcome, 'pending');
  assert.equal(((await failed) as { alias: string }).alias, 'net0');
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 1);
  // Once refused, a new request may be sent (and is pending again).
  assert.equal((await dom.detachDevice(devicesOf(await dom.getXMLDesc(), 'interface')[0]!)).outcome, 'pending');
  await conn.close();
});

test('invalid unplug metadata is an XML error at detach time', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'ev8', devices: bridgeNic, metadata: unplugMeta('sometimes') }));
  await dom.create();
  await rejectsWith(dom.detachDevice(devicesOf(await dom.getXMLDesc(), 'interface')[0]!), ErrorCode.XML_ERROR, /invalid unplug ack 'sometimes'/);
  await conn.close();
});
