/** test:///default?state=DIR: separate processes share definitions, counters and pending unplugs through the folder. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { Connection, DomainXML } from '../../src/index.js';
import { devicesOf, parsed } from './helpers.js';

const run = promisify(execFile);
const worker = join(import.meta.dirname, 'fixtures', 'state-worker.ts');

function step(dir: string, name: string, arg: string): Promise<{ stdout: string }> {
  return run(process.execPath, ['--import', 'tsx', worker, dir, name, arg]);
}

test('domains defined and started by one process are seen, live, by another', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await step(dir, 'define-start', 'shared');
  const conn = await Connection.open(`test:///default?state=${dir}`);
  const names = (await conn.listAllDomains()).map((d) => d.name).sort();
  assert.deepEqual(names, ['shared', 'test'], 'the default domain is seeded once');
  const dom = await conn.lookupByName('shared');
  assert.equal(await dom.isActive(), true);
  assert.match(await dom.getXMLDesc(), /<alias name='virtio-disk0'\/>/);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  for (const f of readdirSync(join(dir, 'domains'))) assert.equal(statSync(join(dir, 'domains', f)).mode & 0o777, 0o600);
  await conn.close();
});

test('two processes attaching at once get distinct vnet names from the shared counter', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await step(dir, 'define-start', 'a');
  await step(dir, 'define-start', 'b');
  await Promise.all([step(dir, 'attach-many', 'a'), step(dir, 'attach-many', 'b')]);
  const conn = await Connection.open(`test:///default?state=${dir}`);
  const taps: string[] = [];
  for (const name of ['a', 'b']) {
    const nics = devicesOf(await (await conn.lookupByName(name)).getXMLDesc(), 'interface');
    assert.equal(nics.length, 10);
    for (const n of nics) taps.push(parsed(n).child('target')!.attr('dev')!);
    assert.doesNotMatch(await (await conn.lookupByName(name)).getXMLDesc(DomainXML.INACTIVE), /vnet/);
  }
  assert.equal(new Set(taps).size, 20, taps.join(' '));
  await conn.close();
});

test('a pending unplug recorded by an exited process completes when its guest answers', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const conn0 = await Connection.open(`test:///default?state=${dir}`);
  await conn0.defineXML(
    `<domain type='qemu'><name>slow</name><memory unit='MiB'>64</memory><metadata><vkt:unplug xmlns:vkt='urn:virtkit:test' ack='delay' delay-ms='2000'/></metadata>` +
      `<devices><interface type='bridge'><source bridge='br0'/></interface></devices></domain>`,
  );
  await (await conn0.lookupByName('slow')).create();
  await conn0.close();
  const { stdout } = await step(dir, 'detach-pending', 'slow');
  assert.deepEqual(JSON.parse(stdout), { outcome: 'pending', alias: 'net0' });
  const conn = await Connection.open(`test:///default?state=${dir}`);
  const dom = await conn.lookupByName('slow');
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 1, 'still pending');
  // The guest answers 2 s after the request (made in the child): well after our first look, even on a busy machine.
  await new Promise((r) => setTimeout(r, 2200));
  assert.equal(devicesOf(await dom.getXMLDesc(), 'interface').length, 0, 'answered after the deadline');
  await conn.close();
});

test('a failed call in state mode leaves the files as they were', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const conn = await Connection.open(`test:///default?state=${dir}`);
  const dom = await conn.lookupByName('test');
  const before = await dom.getXMLDesc();
  await assert.rejects(dom.attachDevice(`<disk type='file'><source file='/x'/><target dev='vda'/></disk>`));
  const other = await Connection.open(`test:///default?state=${dir}`);
  assert.equal(await (await other.lookupByName('test')).getXMLDesc(), before);
  assert.equal(await dom.getXMLDesc(), before);
  await other.close();
  await conn.close();
});

test('a LIVE|CONFIG detach waiting for the guest applies its config half to the config as it is then', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = await Connection.open(`test:///default?state=${dir}&unplugTimeout=2000`);
  const b = await Connection.open(`test:///default?state=${dir}`);
  const dom = await a.defineXML(
    `<domain type='qemu'><name>race</name><memory unit='MiB'>64</memory><metadata><vkt:unplug xmlns:vkt='urn:virtkit:test' ack='delay' delay-ms='300'/></metadata>` +
      `<devices><interface type='bridge'><mac address='52:54:00:00:00:aa'/><source bridge='br0'/></interface></devices></domain>`,
  );
  await dom.create();
  const detaching = dom.detachDeviceFlags(`<interface type='bridge'><mac address='52:54:00:00:00:aa'/></interface>`, 3);
  await new Promise((r) => setTimeout(r, 50));
  // Meanwhile another connection (another process, as far as the folder knows) changes the config.
  await (await b.lookupByName('race')).attachDeviceFlags(`<disk type='file'><source file='/d'/><target dev='vdb'/></disk>`, 2);
  assert.deepEqual(await detaching, { outcome: 'removed', alias: 'net0' });
  const config = await (await b.lookupByName('race')).getXMLDesc(DomainXML.INACTIVE);
  assert.match(config, /<target dev='vdb'/, 'the other change survived');
  assert.doesNotMatch(config, /52:54:00:00:00:aa/, 'the NIC left the config');
  await a.close();
  await b.close();
});

test('events caused by other processes on the folder reach this connection\'s listeners', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const conn = await Connection.open(`test:///default?state=${dir}`);
  const seen: string[] = [];
  const off = await conn.on('lifecycle', (e) => seen.push(`${e.domain.name}:${e.event}`));
  await step(dir, 'define-start', 'elsewhere');
  const deadline = Date.now() + 3000;
  while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(seen, ['elsewhere:0', 'elsewhere:2'], 'DEFINED then STARTED, once each');
  // Our own calls are delivered once, not again through the log.
  await (await conn.lookupByName('elsewhere')).destroy();
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(seen.slice(2), ['elsewhere:5']);
  await off();
  await conn.close();
});

test('a process waiting on one domain holds up other processes only on that domain', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const conn = await Connection.open(`test:///default?state=${dir}`);
  await conn.defineXML(
    `<domain type='qemu'><name>held</name><memory unit='MiB'>64</memory><metadata><vkt:unplug xmlns:vkt='urn:virtkit:test' ack='never'/></metadata>` +
      `<devices><interface type='bridge'><source bridge='br0'/></interface></devices></domain>`,
  );
  await (await conn.lookupByName('held')).create();
  const free = await conn.lookupByName('test');
  // The child detaches from 'held' and waits 2 s for a guest that never answers, holding that domain's lock.
  const child = execFile(process.execPath, ['--import', 'tsx', worker, dir, 'detach-wait', 'held']);
  const done = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`))));
  });
  // Its unplug request is recorded under the lock it then keeps while waiting.
  const record = join(dir, 'domains', 'held.state');
  while (!readFileSync(record, 'utf8').includes("<unplug alias='net0'")) await new Promise((r) => setTimeout(r, 20));
  const t0 = Date.now();
  await free.attachDevice(`<interface type='bridge'><source bridge='br0'/></interface>`);
  assert.ok(Date.now() - t0 < 1000, `another domain's attach took ${Date.now() - t0} ms`);
  // The held domain itself waits for the child's call to end.
  const t1 = Date.now();
  await (await conn.lookupByName('held')).suspend();
  const waited = Date.now() - t1;
  assert.deepEqual(JSON.parse(await done), { outcome: 'pending', alias: 'net0' });
  assert.ok(waited >= 500, `the held domain's suspend waited for the child (${waited} ms)`);
  await conn.close();
});

test('the reason a domain stopped is the same in every process sharing the folder, whichever one saw it stop', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const uri = `test:///default?state=${dir}`;
  const a = await Connection.open(uri);
  const b = await Connection.open(uri);
  t.after(() => Promise.all([a.close(), b.close()]).then(() => undefined));
  const mine = await a.lookupByName('test');
  assert.deepEqual(await mine.getState(), { state: 1, reason: 1 });
  await (await b.lookupByName('test')).destroy();
  // VIR_DOMAIN_SHUTOFF (5), VIR_DOMAIN_SHUTOFF_DESTROYED (2): not "unknown" for the process that did not stop it.
  assert.deepEqual(await mine.getState(), { state: 5, reason: 2 });
  await mine.create();
  await mine.shutdown();
  assert.deepEqual(await (await b.lookupByName('test')).getState(), { state: 5, reason: 1 });
});
