/** Events every driver delivers: lifecycle through typed listeners, device events through the async iterator. */
import assert from 'node:assert/strict';
import { type DomainEvent, LifecycleEvent } from '../../src/index.js';
import { bridgeNic, devicesOf, domainXml } from '../core/helpers.js';
import { contractTest } from './harness.js';

contractTest('lifecycle events arrive for define, start, suspend, resume, destroy, undefine', async (c) => {
  const conn = await c.open();
  const seen: string[] = [];
  const off = await conn.on('lifecycle', (e) => seen.push(`${e.domain.name}:${e.event}:${e.detail}`));
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'ev1' })));
  await dom.create();
  await dom.suspend();
  await dom.resume();
  await dom.destroy();
  await dom.undefine();
  await off();
  await conn.defineXML(c.domain(domainXml({ name: 'ev-after-off' })));
  const L = LifecycleEvent;
  assert.deepEqual(seen, [`ev1:${L.DEFINED}:0`, `ev1:${L.STARTED}:0`, `ev1:${L.SUSPENDED}:0`, `ev1:${L.RESUMED}:0`, `ev1:${L.STOPPED}:1`, `ev1:${L.UNDEFINED}:0`]);
});

contractTest('device-added / device-removed through the async iterator, filtered by domain', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'ev2' })));
  await dom.create();
  const it = conn.events({ domain: 'ev2', types: ['device-added', 'device-removed'] });
  await it.ready;
  const { alias } = await dom.attachDevice(c.device(bridgeNic));
  const r = await dom.detachDevice(devicesOf(await dom.getXMLDesc(), 'interface')[0]!);
  assert.deepEqual(r, { outcome: 'removed', alias: 'net0' });
  const a = (await it.next()).value as DomainEvent;
  const b = (await it.next()).value as DomainEvent;
  assert.deepEqual([a.type, b.type], ['device-added', 'device-removed']);
  assert.equal(alias, 'net0');
  assert.deepEqual([(a as { alias: string }).alias, (b as { alias: string }).alias], ['net0', 'net0']);
  await it.return?.();
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});

contractTest('a listener that throws fails neither the call nor the other listeners', async (c) => {
  const errors: unknown[] = [];
  const conn = await c.open({ onListenerError: (err) => errors.push(err) });
  await conn.on('lifecycle', () => {
    throw new Error('listener fails');
  });
  const names: string[] = [];
  await conn.on('lifecycle', (e) => names.push(e.domain.name));
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'ev3' })));
  await dom.create();
  assert.deepEqual(names, ['ev3', 'ev3']);
  assert.equal(errors.length, 2);
  assert.equal(await dom.isActive(), true);
});
