/**
 * Issue 11, the typed API's detach contract, on every driver running the simulated guest: truthful
 * and awaitable outcomes, pending devices listed and marked in the live XML, idempotent requests,
 * ifPresent, busy guests, presence re-read after errors, isolation, events tied to requests.
 */
import assert from 'node:assert/strict';
import {
  type Connection,
  DeviceModify,
  type DomainEvent,
  DomainStart,
  DomainXML,
  ErrorCode,
  HOTPLUG_NAMESPACE,
  isVirtError,
} from '../../src/index.js';
import { bridgeNic, devicesOf, domainXml, rejectsWith } from '../core/helpers.js';
import { type Contract, contractTest } from './harness.js';

const guestTest = (name: string, fn: (c: Contract) => Promise<void>): void => contractTest(name, fn, (t) => t.simulatedGuest && t.hotplugContract);

const unplugMeta = (ack: string, extra = '') => `<vkt:unplug xmlns:vkt='urn:virtkit:test' ack='${ack}'${extra}/>`;
const nicOf = async (dom: { getXMLDesc(): Promise<string> }): Promise<string> => devicesOf(await dom.getXMLDesc(), 'interface')[0]!;
const nicCount = async (dom: { getXMLDesc(flags?: number): Promise<string> }, flags = 0): Promise<number> =>
  devicesOf(await dom.getXMLDesc(flags), 'interface').length;

/** Collects device events from now on; `next(type)` resolves with the next one of that type not taken yet. */
async function recorder(conn: Connection): Promise<{ events: DomainEvent[]; next(type: string): Promise<DomainEvent>; stop(): Promise<void> }> {
  const events: DomainEvent[] = [];
  const taken = new Map<string, number>();
  let wake: (() => void) | undefined;
  const push = (e: DomainEvent): void => {
    events.push(e);
    wake?.();
  };
  const offs = await Promise.all([conn.on('device-removed', push), conn.on('device-removal-failed', push), conn.on('device-added', push)]);
  return {
    events,
    async next(type) {
      for (;;) {
        const all = events.filter((e) => e.type === type);
        const n = taken.get(type) ?? 0;
        if (all.length > n) {
          taken.set(type, n + 1);
          return all[n]!;
        }
        await new Promise<void>((r) => {
          wake = r;
        });
      }
    },
    async stop() {
      for (const off of offs) await off();
    },
  };
}

guestTest('waitMs: removed when the guest answers within it, with the request id its event carries', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 0 });
  const dom = await conn.defineXML(domainXml({ name: 'await1', devices: bridgeNic, metadata: unplugMeta('delay', " delay-ms='80'") }));
  await dom.create();
  const rec = await recorder(conn);
  const r = await dom.detachDeviceFlags(await nicOf(dom), DeviceModify.LIVE, { waitMs: 20_000 });
  assert.equal(r.status, 'removed');
  assert.equal(r.outcome, 'removed');
  assert.equal(r.alias, 'net0');
  assert.match(r.requestId ?? '', /^[0-9a-f-]{36}$/);
  // The event came before the call's result, and carries the request's id.
  const removed = rec.events.filter((e) => e.type === 'device-removed');
  assert.equal(removed.length, 1, 'device-removed arrived before the call resolved');
  assert.equal((removed[0] as { requestId?: string }).requestId, r.requestId);
  assert.equal(await nicCount(dom), 0);
  await rec.stop();
});

guestTest('pending: reason, since, listed by pendingDevices, marked in the live XML only', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(domainXml({ name: 'await2', devices: bridgeNic, metadata: unplugMeta('never') }));
  await dom.create();
  const t0 = Date.now();
  const r = await dom.detachDeviceFlags(await nicOf(dom), DeviceModify.LIVE | DeviceModify.CONFIG, { waitMs: 30 });
  assert.equal(r.status, 'pending');
  assert.equal(r.reason, 'guest-not-acknowledging');
  assert.equal(r.state, 'pending');
  assert.ok(r.since! >= t0 - 5 && r.since! <= Date.now(), `since ${r.since}`);
  assert.equal(await nicCount(dom, DomainXML.INACTIVE), 0, 'the config half is done once the live half did not fail');

  const [p, ...rest] = await dom.pendingDevices();
  assert.equal(rest.length, 0);
  assert.deepEqual({ alias: p!.alias, reason: p!.reason, state: p!.state, since: p!.since, requestId: p!.requestId }, {
    alias: 'net0',
    reason: 'guest-not-acknowledging',
    state: 'pending',
    since: r.since,
    requestId: r.requestId,
  });
  assert.ok(p!.ageMs >= 0 && p!.ageMs < 60_000);

  const live = await dom.getXMLDesc();
  assert.match(live, new RegExp(`<vkh:hotplug xmlns:vkh='${HOTPLUG_NAMESPACE}'>`));
  assert.match(live, /<vkh:pending alias='net0' reason='guest-not-acknowledging' state='pending' since='\d{4}-\d\d-\d\dT[^']+Z' request='[0-9a-f-]{36}'\/>/);
  assert.doesNotMatch(await dom.getXMLDesc(DomainXML.INACTIVE), /vkh:|urn:virtkit:hotplug/);
  // A dumped live XML defined again does not carry the mark into the persistent definition.
  await conn.defineXML(live);
  assert.doesNotMatch(await dom.getXMLDesc(DomainXML.INACTIVE), /vkh:|urn:virtkit:hotplug/);
});

guestTest('a paused guest: pending with reason paused, removed after resume (event with the request id)', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(domainXml({ name: 'await3', devices: bridgeNic }));
  await dom.create();
  await dom.suspend();
  const rec = await recorder(conn);
  const r = await dom.detachDevice(await nicOf(dom), { waitMs: 0 });
  assert.deepEqual([r.status, r.reason], ['pending', 'paused']);
  assert.equal((await dom.pendingDevices())[0]?.reason, 'paused');
  assert.match(await dom.getXMLDesc(), /reason='paused'/);
  await dom.resume();
  const e = await rec.next('device-removed');
  assert.equal((e as { requestId?: string }).requestId, r.requestId);
  assert.deepEqual(await dom.pendingDevices(), []);
  assert.equal(await nicCount(dom), 0);
  await rec.stop();
});

guestTest('idempotent: a second detach of a pending device sends no request (resend does), keeps id and since', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 20 });
  const dom = await conn.defineXML(domainXml({ name: 'idem1', devices: bridgeNic }));
  // Started paused: the guest OS has not booted, so QEMU 7.2 refuses any second request.
  await dom.createWithFlags(DomainStart.PAUSED);
  const nic = await nicOf(dom);
  const first = await dom.detachDeviceFlags(nic, DeviceModify.LIVE, {});
  assert.equal(first.status, 'pending');
  // libvirt's call sends it again and gets QEMU's refusal ...
  await rejectsWith(dom.detachDevice(nic), ErrorCode.INTERNAL_ERROR, /already in the process of unplug/);
  // ... the contract does not ask again.
  const second = await dom.detachDeviceFlags(nic, DeviceModify.LIVE, { waitMs: 0 });
  assert.deepEqual([second.status, second.requestId, second.since], ['pending', first.requestId, first.since]);
  const byAlias = await dom.detachDeviceAlias('net0', 0, {});
  assert.deepEqual([byAlias.status, byAlias.requestId], ['pending', first.requestId]);
  await rejectsWith(dom.detachDeviceAlias('net0', 0, { resend: true }), ErrorCode.INTERNAL_ERROR, /already in the process of unplug/);
  assert.equal(await nicCount(dom), 1, 'a refused resend leaves the device where it is');
  assert.equal((await dom.pendingDevices())[0]?.requestId, first.requestId);
});

guestTest('idempotent LIVE|CONFIG: the second call does not fail on the config half already done', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(domainXml({ name: 'idem2', devices: bridgeNic, metadata: unplugMeta('never') }));
  await dom.create();
  const nic = await nicOf(dom);
  const flags = DeviceModify.LIVE | DeviceModify.CONFIG;
  assert.equal((await dom.detachDeviceFlags(nic, flags, { waitMs: 0 })).status, 'pending');
  // libvirt: the config no longer has it.
  await rejectsWith(dom.detachDeviceFlags(nic, flags), ErrorCode.DEVICE_MISSING);
  assert.equal((await dom.detachDeviceFlags(nic, flags, { waitMs: 0 })).status, 'pending');
});

guestTest('ifPresent: an absent device is success; without it DEVICE_MISSING; a half that has it is still done', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(domainXml({ name: 'ifp', devices: bridgeNic }));
  await dom.create();
  const ghost = `<interface type='bridge'><mac address='52:54:00:00:00:99'/><source bridge='br0'/></interface>`;
  await rejectsWith(dom.detachDeviceFlags(ghost, DeviceModify.LIVE, {}), ErrorCode.DEVICE_MISSING);
  assert.deepEqual(await dom.detachDeviceFlags(ghost, DeviceModify.LIVE, { ifPresent: true }), { status: 'removed', outcome: 'removed', absent: true });
  assert.deepEqual(await dom.detachDeviceAlias('net7', 0, { ifPresent: true }), { status: 'removed', outcome: 'removed', absent: true });
  // Config-only device (attached with CONFIG): a LIVE|CONFIG detach with ifPresent removes it from the config.
  await dom.attachDeviceFlags(ghost, DeviceModify.CONFIG);
  const r = await dom.detachDeviceFlags(ghost, DeviceModify.LIVE | DeviceModify.CONFIG, { ifPresent: true });
  assert.equal(r.status, 'removed');
  assert.equal(r.absent, undefined);
  assert.equal(devicesOf(await dom.getXMLDesc(DomainXML.INACTIVE), 'interface').length, 1);
});

guestTest('busy once: libvirt calls get QEMU\'s error; the contract retries within waitMs, or holds, or fails retryably', async (c) => {
  const conn = await c.open({ unplugTimeoutMs: 0 });
  const dom = await conn.defineXML(domainXml({ name: 'busy1', metadata: unplugMeta('immediate', " busy='1'") }));
  await dom.create();
  const plug = async (): Promise<string> => {
    await dom.attachDevice(bridgeNic);
    return nicOf(dom);
  };
  // libvirt's call: the hypervisor's refusal as libvirt reports it; the device stays, nothing pending.
  let nic = await plug();
  await rejectsWith(dom.detachDevice(nic), ErrorCode.INTERNAL_ERROR, /guest is busy \(power indicator blinking\)/);
  assert.deepEqual(await dom.pendingDevices(), []);
  assert.equal((await dom.detachDevice(nic)).outcome, 'removed', 'busy only once');

  // ifBusy 'fail': the retryable RESOURCE_BUSY, nothing pending.
  nic = await plug();
  await assert.rejects(dom.detachDevice(nic, { ifBusy: 'fail' }), (err: unknown) => {
    assert.ok(isVirtError(err) && err.code === ErrorCode.RESOURCE_BUSY, String(err));
    assert.equal((err as { retryable?: boolean }).retryable, true);
    assert.match(err.message, /busy.*net0.*retry/);
    return true;
  });
  assert.deepEqual(await dom.pendingDevices(), []);
  assert.equal((await dom.detachDevice(nic, {})).status, 'removed');

  // Within waitMs: held, resent, removed in the same call.
  nic = await plug();
  const r = await dom.detachDevice(nic, { waitMs: 20_000 });
  assert.equal(r.status, 'removed');

  // Without a wait: pending (guest-busy); virtkit resends it and the event follows, with the request's id.
  nic = await plug();
  const rec = await recorder(conn);
  const held = await dom.detachDevice(nic, { waitMs: 0 });
  assert.deepEqual([held.status, held.reason], ['pending', 'guest-busy']);
  assert.match(await dom.getXMLDesc(), /reason='guest-busy'/);
  const e = await rec.next('device-removed');
  assert.equal((e as { requestId?: string }).requestId, held.requestId);
  assert.equal(await nicCount(dom), 0);
  await rec.stop();
});

guestTest('after an unplug error the presence is read again: a device that left is never reported as still there', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(domainXml({ name: 'vanish', devices: bridgeNic + bridgeNic, metadata: unplugMeta('vanish') }));
  await dom.create();
  const [a, b] = devicesOf(await dom.getXMLDesc(), 'interface');
  const rec = await recorder(conn);
  // libvirt's call reports the error, as libvirt would; the live XML no longer shows the device.
  await rejectsWith(dom.detachDevice(a!), ErrorCode.OPERATION_FAILED, /End of file from qemu monitor/);
  assert.equal(await nicCount(dom), 1);
  // The contract reports what happened: removed.
  const r = await dom.detachDevice(b!, {});
  assert.equal(r.status, 'removed');
  assert.equal(await nicCount(dom), 0);
  const ids = rec.events.filter((e) => e.type === 'device-removed').map((e) => (e as { requestId?: string }).requestId);
  assert.equal(ids.length, 2);
  assert.equal(ids[1], r.requestId);
  await rec.stop();
});

guestTest('a guest that refuses: the contract fails like libvirt, device-removal-failed carries the request id', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(domainXml({ name: 'refuse', devices: bridgeNic, metadata: unplugMeta('reject', " delay-ms='30'") }));
  await dom.create();
  const rec = await recorder(conn);
  await rejectsWith(dom.detachDeviceFlags(await nicOf(dom), DeviceModify.LIVE | DeviceModify.CONFIG, { waitMs: 20_000 }), ErrorCode.OPERATION_FAILED, /rejected by the guest/);
  const e = await rec.next('device-removal-failed');
  assert.match((e as { requestId?: string }).requestId ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(await nicCount(dom, DomainXML.INACTIVE), 1, 'config untouched');
  assert.deepEqual(await dom.pendingDevices(), []);
  // Refused after the call returned: pending first, then the event.
  const p = await dom.detachDevice(await nicOf(dom), { waitMs: 0 });
  assert.equal(p.status, 'pending');
  assert.notEqual(p.requestId, (e as { requestId?: string }).requestId, 'a new request after the refusal');
  const late = await rec.next('device-removal-failed');
  assert.equal((late as { requestId?: string }).requestId, p.requestId);
  await rec.stop();
});

guestTest('isolate: a device stuck pending is cut off, pending-until-shutdown, finalized when the domain stops', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(
    domainXml({ name: 'iso', devices: bridgeNic + `<disk type='file'><source file='/x.img'/><target dev='vdb'/></disk>`, metadata: unplugMeta('never') }),
  );
  await dom.create();
  // Nothing pending yet: isolation needs a detach first.
  await rejectsWith(dom.isolateDevice('net0'), ErrorCode.OPERATION_INVALID, /no pending unplug/);
  await rejectsWith(dom.isolateDevice('net9'), ErrorCode.DEVICE_MISSING);
  const r = await dom.detachDevice(await nicOf(dom), { waitMs: 10, isolate: true });
  assert.deepEqual([r.status, r.state], ['pending', 'pending-until-shutdown']);
  const nic = await nicOf(dom);
  assert.match(nic, /<link state='down'\/>/);
  assert.match(await dom.getXMLDesc(), /alias='net0' reason='guest-not-acknowledging' state='pending-until-shutdown'/);
  assert.doesNotMatch(await dom.getXMLDesc(DomainXML.INACTIVE), /state='down'/);

  const d = await dom.detachDeviceAlias('virtio-disk1', 0, {});
  assert.equal(d.status, 'pending');
  const iso = await dom.isolateDevice('virtio-disk1');
  assert.equal(iso.state, 'pending-until-shutdown');
  assert.equal(iso.requestId, d.requestId);
  assert.deepEqual(
    (await dom.pendingDevices()).map((p) => [p.alias, p.state]),
    [
      ['net0', 'pending-until-shutdown'],
      ['virtio-disk1', 'pending-until-shutdown'],
    ],
  );
  const rec = await recorder(conn);
  await dom.destroy();
  const removed = rec.events.filter((e) => e.type === 'device-removed');
  assert.deepEqual(
    removed.map((e) => [(e as { alias: string }).alias, (e as { requestId?: string }).requestId]),
    [
      ['net0', r.requestId],
      ['virtio-disk1', d.requestId],
    ],
  );
  await rec.stop();
});

guestTest('isolate only interfaces and disks', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(domainXml({ name: 'iso2', devices: `<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>`, metadata: unplugMeta('never') }));
  await dom.create();
  const alias = /<rng[\s\S]*?<alias name='([^']+)'/.exec(await dom.getXMLDesc())![1]!;
  assert.equal((await dom.detachDeviceAlias(alias, 0, {})).status, 'pending');
  await rejectsWith(dom.isolateDevice(alias), ErrorCode.OPERATION_UNSUPPORTED, /only interfaces and disks/);
});

guestTest('config-only changes emit no device event', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(domainXml({ name: 'cfg', devices: bridgeNic }));
  await dom.create();
  const rec = await recorder(conn);
  await dom.attachDeviceFlags(`<interface type='bridge'><mac address='52:54:00:00:00:42'/><source bridge='br0'/></interface>`, DeviceModify.CONFIG);
  const r = await dom.detachDeviceFlags(`<interface type='bridge'><mac address='52:54:00:00:00:42'/></interface>`, DeviceModify.CONFIG, {});
  assert.deepEqual(r, { status: 'removed', outcome: 'removed' });
  await dom.attachDevice(bridgeNic);
  await rec.next('device-added');
  assert.deepEqual(
    rec.events.map((e) => e.type),
    ['device-added'],
    'only the live attach emitted an event',
  );
  await rec.stop();
});

guestTest('detach options are checked: unknown keys and bad values are INVALID_ARG', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(domainXml({ name: 'opts', devices: bridgeNic }));
  await dom.create();
  const nic = await nicOf(dom);
  await rejectsWith(dom.detachDeviceFlags(nic, 0, { wait: 5 } as never), ErrorCode.INVALID_ARG, /unknown detach option 'wait'/);
  await rejectsWith(dom.detachDeviceFlags(nic, 0, { waitMs: -1 }), ErrorCode.INVALID_ARG, /waitMs/);
  await rejectsWith(dom.detachDeviceFlags(nic, 0, { waitMs: 1.5 }), ErrorCode.INVALID_ARG, /waitMs/);
  await rejectsWith(dom.detachDeviceFlags(nic, 0, { ifBusy: 'retry' } as never), ErrorCode.INVALID_ARG, /ifBusy/);
  await rejectsWith(dom.detachDeviceFlags(nic, 0, { resend: 'yes' } as never), ErrorCode.INVALID_ARG, /resend/);
  assert.equal(await nicCount(dom), 1);
});

contractTest(
  'over libvirt\'s protocol: contract options are refused, libvirt\'s calls keep their answers, the pending mark is in the live XML only',
  async (c) => {
    const conn = await c.open({ unplugTimeoutMs: 20 });
    const dom = await conn.defineXML(domainXml({ name: 'wire', devices: bridgeNic, metadata: unplugMeta('never') }));
    await dom.create();
    const nic = await nicOf(dom);
    await rejectsWith(dom.detachDeviceFlags(nic, DeviceModify.LIVE, { waitMs: 0 }), ErrorCode.NO_SUPPORT, /hot-plug contract needs a driver that runs the domains/);
    await rejectsWith(dom.pendingDevices(), ErrorCode.NO_SUPPORT);
    assert.deepEqual(await dom.detachDeviceFlags(nic, DeviceModify.LIVE | DeviceModify.CONFIG), { outcome: 'pending', alias: 'net0' });
    const live = await dom.getXMLDesc();
    assert.match(live, /<vkh:pending alias='net0' reason='guest-not-acknowledging' state='pending'/);
    // A libvirt client defining the dumped live XML does not carry the mark into the definition.
    await conn.defineXML(live);
    assert.doesNotMatch(await dom.getXMLDesc(DomainXML.INACTIVE), /vkh:/);
    assert.equal(await nicCount(dom), 1);
  },
  (t) => t.simulatedGuest && !t.hotplugContract,
);
