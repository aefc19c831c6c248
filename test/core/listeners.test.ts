/**
 * Listener isolation (issue 10 item 5): a listener that throws or rejects never fails the call
 * that caused the event, never skips other listeners or unplug wake-ups, never ends the process;
 * its error goes to onListenerError or a process warning. Plus the bounded events() buffer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { Connection, type DomainEvent, ListenerError } from '../../src/index.js';
import { bridgeNic, devicesOf, domainXml } from './helpers.js';

test('a throwing listener does not fail the committed call; later listeners still run; the error reaches onListenerError', async () => {
  const errors: [unknown, DomainEvent][] = [];
  const conn = await Connection.open('test:///default', { onListenerError: (err, e) => errors.push([err, e]) });
  const dom = await conn.defineXML(domainXml({ name: 'iso1' }));
  await dom.create();
  const later: string[] = [];
  await conn.on('device-added', () => {
    throw new Error('first listener fails');
  });
  await conn.on('device-added', (e) => later.push(e.alias));
  const result = await dom.attachDevice(bridgeNic);
  assert.deepEqual(result, { alias: 'net0' });
  assert.deepEqual(later, ['net0']);
  assert.equal(errors.length, 1);
  assert.match((errors[0]![0] as Error).message, /first listener fails/);
  assert.equal(errors[0]![1].type, 'device-added');
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 1);
  await conn.close();
});

test('a rejecting async listener becomes a VirtkitListenerError warning, not an unhandled rejection', async () => {
  const conn = await Connection.open('test:///default');
  const warned = new Promise<Error>((resolve) => {
    const onWarning = (w: Error): void => {
      if (w.name !== 'VirtkitListenerError') return;
      process.off('warning', onWarning);
      resolve(w);
    };
    process.on('warning', onWarning);
  });
  await conn.on('lifecycle', async () => {
    await Promise.resolve();
    throw new Error('async listener fails');
  });
  const dom = await conn.defineXML(domainXml({ name: 'iso2' }));
  assert.equal(dom.name, 'iso2');
  const w = await warned;
  assert.ok(w instanceof ListenerError);
  assert.match(w.message, /lifecycle listener for domain 'iso2' failed: async listener fails/);
  await conn.close();
});

test('a detach whose guest answers in 200 ms reports removed even when a listener throws', async () => {
  const conn = await Connection.open('test:///default?unplugTimeout=5000', { onListenerError: () => {} });
  const meta = `<vkt:unplug xmlns:vkt='urn:virtkit:test' ack='delay' delay-ms='200'/>`;
  const dom = await conn.defineXML(domainXml({ name: 'iso3', devices: bridgeNic, metadata: meta }));
  await dom.create();
  await conn.on('device-removed', () => {
    throw new Error('device-removed listener fails');
  });
  const t0 = Date.now();
  const r = await dom.detachDevice(devicesOf(await dom.getXMLDesc(), 'interface')[0]!);
  assert.deepEqual(r, { outcome: 'removed', alias: 'net0' });
  assert.ok(Date.now() - t0 < 4000, `answered well before the 5 s timeout (${Date.now() - t0} ms)`);
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 0);
  await conn.close();
});

test('a process listening on a state folder with a throwing listener keeps running', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-listen-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'listener-child.ts'), dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const lines = createInterface({ input: child.stdout });
  const seen: string[] = [];
  const waitFor = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (seen.includes(text)) return resolve();
      const timer = setTimeout(() => reject(new Error(`no '${text}' from the child; saw ${JSON.stringify(seen)}; stderr ${stderr}`)), 15_000);
      const onLine = (): void => {
        if (!seen.includes(text)) return;
        clearTimeout(timer);
        lines.off('line', onLine);
        resolve();
      };
      lines.on('line', onLine);
    });
  lines.on('line', (l) => seen.push(l));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await waitFor('ready');
  const conn = await Connection.open(`test:///default?state=${dir}`);
  await conn.defineXML(domainXml({ name: 'first' }));
  await waitFor('event first 0');
  await conn.defineXML(domainXml({ name: 'second' }));
  await waitFor('event second 0');
  await conn.close();
  assert.equal(child.exitCode, null, 'the listening process is still running');
  assert.match(stderr, /VirtkitListenerError: a lifecycle listener for domain 'first' failed: listener boom/);
  assert.match(stderr, /async listener boom/);
  child.kill('SIGKILL');
  await exited;
});

test('events(): unread events are capped, the oldest dropped and counted', async () => {
  const conn = await Connection.open('test:///default');
  const warned = new Promise<Error>((resolve) => {
    const onWarning = (w: Error): void => {
      if (w.name !== 'VirtkitEventsDropped') return;
      process.off('warning', onWarning);
      resolve(w);
    };
    process.on('warning', onWarning);
  });
  const stream = conn.events({ types: ['lifecycle'], maxBuffered: 5 });
  await stream.ready;
  for (let i = 0; i < 8; i++) await conn.defineXML(domainXml({ name: `cap${i}` }));
  assert.equal(stream.dropped, 3);
  const names: string[] = [];
  for (let i = 0; i < 5; i++) names.push(((await stream.next()).value as DomainEvent).domain.name);
  assert.deepEqual(names, ['cap3', 'cap4', 'cap5', 'cap6', 'cap7']);
  assert.match((await warned).message, /holds 5 unread events/);
  await stream.return?.();
  assert.deepEqual(await stream.next(), { value: undefined, done: true });
  await conn.close();
});

test('events() on a closed connection rejects on next(), ready rejects too, nothing is unhandled', async () => {
  const conn = await Connection.open('test:///default');
  const { driver } = conn;
  await conn.close();
  const { eventStream } = await import('../../src/api/event-stream.js');
  const stream = eventStream(driver, {});
  await assert.rejects(stream.ready, /connection is closed/);
  await assert.rejects(stream.next(), /connection is closed/);
  assert.deepEqual(await stream.next(), { value: undefined, done: true });
});
