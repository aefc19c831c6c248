/**
 * Guests that answer unplugs late, never, or refuse them, staged with `<vkt:unplug>` on every
 * driver that runs the test driver's simulated guest; and the guest following its domain's
 * state as QEMU 7.2 guests do (paused, started paused, a second request while one is pending).
 */
import assert from 'node:assert/strict';
import { type Connection, type DomainEvent, DomainStart, DomainXML, ErrorCode } from '../../src/index.js';
import { bridgeNic, devicesOf, domainXml, rejectsWith } from '../core/helpers.js';
import { type Contract, contractTest } from './harness.js';

const guestTest = (name: string, fn: (c: Contract) => Promise<void>): void => contractTest(name, fn, (t) => t.simulatedGuest);

const unplugMeta = (ack: string, delay?: number) =>
  `<vkt:unplug xmlns:vkt='urn:virtkit:test' ack='${ack}'${delay === undefined ? '' : ` delay-ms='${delay}'`}/>`;

/** Resolves with the next event of `type` (subscribed before it returns). */
async function nextEvent(conn: Connection, type: 'device-removed' | 'device-removal-failed'): Promise<() => Promise<DomainEvent>> {
  const stream = conn.events({ types: [type] });
  await stream.ready;
  return async () => {
    const { value } = await stream.next();
    await stream.return?.();
    return value as DomainEvent;
  };
}

const nicOf = async (dom: { getXMLDesc(): Promise<string> }): Promise<string> => devicesOf(await dom.getXMLDesc(), 'interface')[0]!;
const nicCount = async (dom: { getXMLDesc(flags?: number): Promise<string> }, flags = 0): Promise<number> =>
  devicesOf(await dom.getXMLDesc(flags), 'interface').length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

guestTest('guest answering within the wait: detach returns removed after the delay', async (c) => {
  // A generous wait: the guest answers after 50 ms, the wait only has to outlast a busy machine.
  const conn = await c.open({ unplugTimeoutMs: 10_000 });
  const dom = await conn.defineXML(domainXml({ name: 'ev3', devices: bridgeNic, metadata: unplugMeta('delay', 50) }));
  await dom.create();
  assert.deepEqual(await dom.detachDevice(await nicOf(dom)), { outcome: 'removed', alias: 'net0' });
  assert.equal(await nicCount(dom), 0);
});

guestTest('guest answering after the wait: "request sent", device stays until the event, config already changed; a second request waits again', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 30 });
  const dom = await conn.defineXML(domainXml({ name: 'ev4', devices: bridgeNic, metadata: unplugMeta('delay', 400) }));
  await dom.create();
  const removed = await nextEvent(conn, 'device-removed');
  const nic = await nicOf(dom);
  assert.deepEqual(await dom.detachDeviceFlags(nic, 3), { outcome: 'pending', alias: 'net0' });
  assert.equal(await nicCount(dom), 1, 'still in live XML while pending');
  assert.equal(await nicCount(dom, DomainXML.INACTIVE), 0, 'config detached');
  // The guest OS runs: as with QEMU 7.2, the request is sent again and the call waits again.
  const t0 = Date.now();
  assert.deepEqual(await dom.detachDevice(nic), { outcome: 'pending', alias: 'net0' });
  assert.ok(Date.now() - t0 >= 25, 'the second request waited for the guest too');
  const e = await removed();
  assert.deepEqual([e.type, (e as { alias: string }).alias], ['device-removed', 'net0']);
  assert.equal(await nicCount(dom), 0);
});

guestTest('guest that never answers: pending forever, alias detach returns at once', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 20 });
  const dom = await conn.defineXML(
    domainXml({ name: 'ev5', devices: bridgeNic + `<disk type='file'><source file='/x'/><target dev='vdb'/></disk>`, metadata: unplugMeta('never') }),
  );
  await dom.create();
  assert.equal((await dom.detachDevice(await nicOf(dom))).outcome, 'pending');
  assert.deepEqual(await dom.detachDeviceAlias('virtio-disk1'), { outcome: 'pending', alias: 'virtio-disk1' });
  await sleep(60);
  const live = await dom.getXMLDesc();
  assert.equal(devicesOf(live, 'interface').length, 1);
  assert.equal(devicesOf(live, 'disk').length, 2);
  // Stopping the domain ends the story; nothing is left pending.
  await dom.destroy();
  await dom.create();
  assert.equal(await nicCount(dom), 1, 'config still has the NIC (live-only detach)');
});

guestTest('guest that refuses: error while waiting, device-removal-failed, config untouched', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 10_000 });
  const dom = await conn.defineXML(domainXml({ name: 'ev6', devices: bridgeNic, metadata: unplugMeta('reject', 20) }));
  await dom.create();
  const failed = await nextEvent(conn, 'device-removal-failed');
  await rejectsWith(dom.detachDeviceFlags(await nicOf(dom), 3), ErrorCode.OPERATION_FAILED, /rejected by the guest/);
  assert.equal((await failed()).type, 'device-removal-failed');
  assert.equal(await nicCount(dom), 1);
  assert.equal(await nicCount(dom, DomainXML.INACTIVE), 1);
});

guestTest('a refusal after the wait only shows as the event; the device stays and may be requested again', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 10 });
  const dom = await conn.defineXML(domainXml({ name: 'ev7', devices: bridgeNic, metadata: unplugMeta('reject', 400) }));
  await dom.create();
  const failed = await nextEvent(conn, 'device-removal-failed');
  assert.equal((await dom.detachDevice(await nicOf(dom))).outcome, 'pending');
  assert.equal(((await failed()) as { alias: string }).alias, 'net0');
  assert.equal(await nicCount(dom), 1);
  assert.equal((await dom.detachDevice(await nicOf(dom))).outcome, 'pending');
});

guestTest('invalid unplug metadata is an XML error at detach time', async (c) => {
  const conn = await c.open();
  for (const meta of [unplugMeta('sometimes'), unplugMeta('delay', 99_999_999_999)]) {
    const name = `ev8-${meta.length}`;
    const dom = await conn.defineXML(domainXml({ name, devices: bridgeNic, metadata: meta }));
    await dom.create();
    await rejectsWith(dom.detachDevice(await nicOf(dom)), ErrorCode.XML_ERROR, /invalid (unplug ack 'sometimes'|delay-ms '99999999999')/);
    assert.equal(await nicCount(dom), 1);
  }
});

guestTest('a paused guest answers no unplug until resumed, then after its usual delay', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 40 });
  // Immediate guest: removed within the call while it runs, pending while paused.
  const quick = await conn.defineXML(domainXml({ name: 'paused-quick', devices: bridgeNic }));
  await quick.create();
  await quick.suspend();
  assert.deepEqual(await quick.detachDevice(await nicOf(quick)), { outcome: 'pending', alias: 'net0' });
  await sleep(50);
  assert.equal(await nicCount(quick), 1, 'nothing answered while paused');
  const removed = await nextEvent(conn, 'device-removed');
  await quick.resume();
  assert.equal(((await removed()) as { domain: { name: string } }).domain.name, 'paused-quick');
  assert.equal(await nicCount(quick), 0);

  // Slow guest paused after the request: its usual delay counts again from the resume.
  const slow = await conn.defineXML(domainXml({ name: 'paused-slow', devices: bridgeNic, metadata: unplugMeta('delay', 300) }));
  await slow.create();
  assert.equal((await slow.detachDevice(await nicOf(slow))).outcome, 'pending');
  await slow.suspend();
  await sleep(400);
  assert.equal(await nicCount(slow), 1, 'the answer waits for the resume');
  const slowRemoved = await nextEvent(conn, 'device-removed');
  const resumedAt = Date.now();
  await slow.resume();
  await slowRemoved();
  assert.ok(Date.now() - resumedAt >= 250, `answered ${Date.now() - resumedAt} ms after the resume, its usual delay`);
  assert.equal(await nicCount(slow), 0);
});

guestTest('a guest started paused has not booted: nothing answered, a second request is refused, answered once it runs', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 30 });
  const dom = await conn.defineXML(domainXml({ name: 'unbooted', devices: bridgeNic }));
  await dom.createWithFlags(DomainStart.PAUSED);
  const nic = await nicOf(dom);
  assert.deepEqual(await dom.detachDevice(nic), { outcome: 'pending', alias: 'net0' });
  // QEMU 7.2 refuses a second device_del while a request the unbooted guest never saw is pending.
  await rejectsWith(dom.detachDevice(nic), ErrorCode.INTERNAL_ERROR, /Device net0 is already in the process of unplug/);
  await rejectsWith(dom.detachDeviceAlias('net0'), ErrorCode.INTERNAL_ERROR, /already in the process of unplug/);
  assert.equal(await nicCount(dom), 1);
  // Running boots the OS, which then answers: the request was not lost.
  const removed = await nextEvent(conn, 'device-removed');
  await dom.resume();
  assert.equal(((await removed()) as { alias: string }).alias, 'net0');
  assert.equal(await nicCount(dom), 0);
});

guestTest('a second request to a booted guest that never answers waits the whole timeout again and stays pending', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 60 });
  const dom = await conn.defineXML(domainXml({ name: 'again', devices: bridgeNic, metadata: unplugMeta('never') }));
  await dom.create();
  const nic = await nicOf(dom);
  assert.equal((await dom.detachDevice(nic)).outcome, 'pending');
  const t0 = Date.now();
  assert.deepEqual(await dom.detachDevice(nic), { outcome: 'pending', alias: 'net0' });
  assert.ok(Date.now() - t0 >= 55, `waited ${Date.now() - t0} ms`);
  assert.deepEqual(await dom.detachDeviceAlias('net0'), { outcome: 'pending', alias: 'net0' });
});

guestTest('detachDeviceAlias returns at once, without waiting for the guest', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 5000 });
  const dom = await conn.defineXML(domainXml({ name: 'alias', devices: bridgeNic, metadata: unplugMeta('delay', 600) }));
  await dom.create();
  const removed = await nextEvent(conn, 'device-removed');
  const t0 = Date.now();
  assert.deepEqual(await dom.detachDeviceAlias('net0'), { outcome: 'pending', alias: 'net0' });
  assert.ok(Date.now() - t0 < 500, `returned after ${Date.now() - t0} ms`);
  assert.equal(((await removed()) as { alias: string }).alias, 'net0');
  assert.equal(await nicCount(dom), 0);
});

guestTest('destroy does not wait for a detach of the same process that waits for its guest', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 10_000 });
  const dom = await conn.defineXML(domainXml({ name: 'stop-waiting', devices: bridgeNic, metadata: unplugMeta('never') }));
  await dom.create();
  const detaching = dom.detachDevice(await nicOf(dom));
  await sleep(50);
  const t0 = Date.now();
  await dom.destroy();
  assert.ok(Date.now() - t0 < 5000, 'destroy did not wait for the unplug timeout');
  assert.equal((await detaching).outcome, 'pending');
  assert.equal(await dom.isActive(), false);
});

guestTest("a detach waiting for one domain's guest holds up no call on another domain", async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 3000 });
  const slow = await conn.defineXML(domainXml({ name: 'held', devices: bridgeNic, metadata: unplugMeta('never') }));
  const other = await conn.defineXML(domainXml({ name: 'free' }));
  await slow.create();
  await other.create();
  const t0 = Date.now();
  const waiting = slow.detachDevice(await nicOf(slow));
  await sleep(20);
  // The other domain's calls go through while the first domain's lock is held for its whole wait.
  await other.attachDevice(bridgeNic);
  await other.suspend();
  await other.resume();
  await conn.defineXML(domainXml({ name: 'third' }));
  assert.ok(Date.now() - t0 < 2500, `other calls took ${Date.now() - t0} ms`);
  assert.equal(await nicCount(other), 1);
  assert.equal((await waiting).outcome, 'pending');
  assert.ok(Date.now() - t0 >= 2900, 'the detach waited its whole timeout');
});
