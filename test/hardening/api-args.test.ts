/**
 * Issue 10 item 6: every public call checks its arguments' types and ranges and answers
 * VIR_ERR_INVALID_ARG naming the argument (never a TypeError, never a truncated value, never a
 * wrong device), as a rejected promise, leaving every definition as it was.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Connection, conf, DeviceModify, type Domain, ErrorCode, isVirtError } from '../../src/index.js';
import { domainXml, freshConnection, stateOf } from '../core/helpers.js';

/** The call must return a promise (no synchronous throw) that rejects with INVALID_ARG matching `re`. */
async function invalidArg(call: () => Promise<unknown>, re: RegExp): Promise<void> {
  let p: Promise<unknown>;
  try {
    p = call();
  } catch (err) {
    assert.fail(`threw synchronously instead of rejecting: ${String(err)}`);
  }
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isVirtError(err), `expected VirtError, got ${String(err)}`);
    assert.equal(err.code, ErrorCode.INVALID_ARG, err.message);
    assert.match(err.message, re);
    return true;
  });
}

const badFlags: unknown[] = [2 ** 32, 2 ** 32 + 2, 2 ** 53, -1, -0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '1', null, {}, 1n, Symbol('f')];

async function setup(): Promise<{ conn: Connection; dom: Domain; running: Domain }> {
  const conn = await freshConnection();
  const dom = await conn.defineXML(
    domainXml({ name: 'args', devices: `<interface type='user'><mac address='52:54:00:00:00:0a'/></interface><input type='tablet' bus='usb'/>` }),
  );
  const running = await conn.lookupByName('test');
  return { conn, dom, running };
}

test('detachDeviceAlias(undefined, CONFIG) is INVALID_ARG and removes nothing (it removed the first alias-less device)', async () => {
  const { conn, dom } = await setup();
  const before = await stateOf(conn);
  for (const alias of [undefined, null, '', 42, {}, Symbol('a')]) {
    await invalidArg(() => dom.detachDeviceAlias(alias as string, DeviceModify.CONFIG), /alias in virDomainDetachDeviceAlias must be a non-empty string/);
  }
  await invalidArg(() => dom.detachDeviceAlias('x'.repeat(5000), DeviceModify.CONFIG), /at most 4096 characters/);
  assert.deepEqual(await stateOf(conn), before);
  await conn.close();
});

test('lookups: undefined, wrong types and out-of-range ids are INVALID_ARG naming the argument', async () => {
  const { conn } = await setup();
  await invalidArg(() => conn.lookupByUUID(undefined as unknown as string), /uuidstr in virDomainLookupByUUIDString must be a string, got undefined/);
  await invalidArg(() => conn.lookupByUUID('not-a-uuid'), /uuidstr in virDomainLookupByUUIDString must be a valid UUID/);
  await invalidArg(() => conn.lookupByName(undefined as unknown as string), /name in virDomainLookupByName must be a string/);
  await invalidArg(() => conn.lookupByName(Symbol('n') as unknown as string), /got a symbol/);
  for (const id of [-1, 1.5, 2 ** 31, Number.NaN, '1', undefined, null]) {
    await invalidArg(() => conn.lookupByID(id as number), /id in virDomainLookupByID must be an integer from 0 to 2147483647/);
  }
  await invalidArg(() => conn.lookup({} as unknown as string), /must be a string, got an object/);
  // Well-formed but unknown values are still "not found", as in libvirt.
  await assert.rejects(conn.lookupByID(2 ** 31 - 1), (e: unknown) => isVirtError(e, ErrorCode.NO_DOMAIN));
  await assert.rejects(conn.lookupByUUID('11111111-2222-3333-4444-555555555555'), (e: unknown) => isVirtError(e, ErrorCode.NO_DOMAIN));
  await assert.rejects(conn.lookup('99999999999999999999'), (e: unknown) => isVirtError(e, ErrorCode.NO_DOMAIN));
  await conn.close();
});

test('Connection.open checks the URI and options: Symbol(), numbers, objects are INVALID_ARG', async () => {
  await invalidArg(() => Connection.open(Symbol() as unknown as string), /uri in virConnectOpen must be a non-empty string, got a symbol/);
  await invalidArg(() => Connection.open(42 as unknown as string), /uri in virConnectOpen must be a non-empty string, got 42/);
  await invalidArg(() => Connection.open(''), /non-empty string/);
  await invalidArg(() => Connection.open(`test:///default?x=${'a'.repeat(5000)}`), /at most 4096 characters/);
  await invalidArg(() => Connection.open('test:///default', 'fast' as never), /options in virConnectOpen must be an object/);
  await invalidArg(() => Connection.open('test:///default', { onListenerError: 'log' as never }), /options.onListenerError in virConnectOpen must be a function/);
  const ok = await Connection.open(undefined, { unplugTimeoutMs: 0 });
  await ok.close();
});

test('flags must be unsigned 32-bit integers on every call that takes them', async () => {
  const { conn, dom, running } = await setup();
  const before = await stateOf(conn);
  const nic = `<interface type='user'/>`;
  const calls: [string, (f: number) => Promise<unknown>][] = [
    ['virConnectListAllDomains', (f) => conn.listAllDomains(f)],
    ['virDomainDefineXMLFlags', (f) => conn.defineXMLFlags(domainXml({ name: 'flagged' }), f)],
    ['virDomainCreateXML', (f) => conn.createXML(domainXml({ name: 'flagged2' }), f)],
    ['virDomainCreateWithFlags', (f) => dom.createWithFlags(f)],
    ['virDomainDestroyFlags', (f) => running.destroyFlags(f)],
    ['virDomainShutdownFlags', (f) => running.shutdownFlags(f)],
    ['virDomainUndefineFlags', (f) => dom.undefineFlags(f)],
    ['virDomainGetXMLDesc', (f) => dom.getXMLDesc(f)],
    ['virDomainHasManagedSaveImage', (f) => dom.hasManagedSaveImage(f)],
    ['virDomainAttachDeviceFlags', (f) => running.attachDeviceFlags(nic, f)],
    ['virDomainDetachDeviceFlags', (f) => running.detachDeviceFlags(nic, f)],
    ['virDomainUpdateDeviceFlags', (f) => running.updateDeviceFlags(nic, f)],
    ['virDomainDetachDeviceAlias', (f) => running.detachDeviceAlias('net0', f)],
  ];
  for (const [fn, call] of calls) {
    for (const f of badFlags) {
      await invalidArg(() => call(f as number), new RegExp(`flags in ${fn} must be an unsigned 32-bit integer`));
    }
    // The top bit is an unknown flag, printed unsigned.
    await invalidArg(() => call(0x8000_0000), new RegExp(`unsupported flags \\(0x80000000\\) in function ${fn}`));
  }
  assert.deepEqual(await stateOf(conn), before);
  await conn.close();
});

test('XML arguments: strings or UTF-8 bytes; anything else is INVALID_ARG; bad UTF-8 names the offset', async () => {
  const { conn, running } = await setup();
  const before = await stateOf(conn);
  for (const xml of [undefined, null, 42, {}, [], Symbol('x')]) {
    await invalidArg(() => conn.defineXML(xml as string), /xml in virDomainDefineXMLFlags must be a string \(or UTF-8 bytes\)/);
    await invalidArg(() => conn.createXML(xml as string), /xml in virDomainCreateXML must be a string/);
    await invalidArg(() => running.attachDevice(xml as string), /xml in virDomainAttachDevice must be a string/);
    await invalidArg(() => running.detachDeviceFlags(xml as string, 0), /xml in virDomainDetachDeviceFlags must be a string/);
    await invalidArg(() => running.updateDeviceFlags(xml as string, 0), /xml in virDomainUpdateDeviceFlags must be a string/);
  }
  const bytes = Buffer.from(domainXml({ name: 'bytes-é' }));
  const dom = await conn.defineXML(bytes);
  assert.equal(dom.name, 'bytes-é');
  const bad = Buffer.concat([Buffer.from("<interface type='user'><alias name='ua-"), Buffer.from([0xff]), Buffer.from("'/></interface>")]);
  await assert.rejects(running.attachDeviceFlags(bad, DeviceModify.LIVE), (e: unknown) => isVirtError(e, ErrorCode.XML_DETAIL) && /malformed XML in device definition: invalid UTF-8 at byte offset 39/.test(e.message));
  await dom.undefine();
  assert.deepEqual(await stateOf(conn), before);
  await conn.close();
});

test('event subscriptions check the type, listener, filter and signal', async () => {
  const conn = await freshConnection();
  await invalidArg(() => conn.on('bogus' as never, () => undefined), /type in on must be one of lifecycle, device-added, device-removed, device-removal-failed/);
  await invalidArg(() => conn.on('lifecycle', 'listener' as never), /listener in on must be a function/);
  const sync = (call: () => unknown, re: RegExp) =>
    assert.throws(call, (e: unknown) => isVirtError(e, ErrorCode.INVALID_ARG) && re.test(e.message));
  sync(() => conn.events('all' as never), /options in events must be an object/);
  sync(() => conn.events({ types: 'lifecycle' as never }), /options.types in events must be an array/);
  sync(() => conn.events({ types: ['lifecycle', 'nope' as never] }), /options.types in events must be one of/);
  sync(() => conn.events({ domain: 7 as never }), /options.domain in events must be a string/);
  for (const m of [0, -1, 1.5, Number.NaN]) sync(() => conn.events({ maxBuffered: m }), /options.maxBuffered in events must be an integer from 1/);
  sync(() => conn.events({}, {} as AbortSignal), /signal in events must be an AbortSignal/);
  await conn.close();
});

/** Values no numeric, string or boolean argument accepts (a throwing toString and a null prototype included: no TypeError may escape). */
const hostile: unknown[] = [
  undefined,
  null,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  -1,
  1.5,
  '5',
  5n,
  Symbol('v'),
  {},
  [],
  () => 1,
  Object.create(null),
  {
    toString() {
      throw new Error('toString');
    },
  },
];

test('settings and information calls check every argument: sizes, counts, sources, names (libvirt C types)', async () => {
  const { conn, dom, running } = await setup();
  const before = await stateOf(conn);
  const numeric: [string, RegExp, (v: unknown) => Promise<unknown>][] = [
    ['setMemory', /memory in virDomainSetMemory must be an integer from 0 to 9007199254740991/, (v) => running.setMemory(v as number)],
    ['setMaxMemory', /memory in virDomainSetMaxMemory must be an integer from 0 to 9007199254740991/, (v) => dom.setMaxMemory(v as number)],
    ['setMemoryFlags', /memory in virDomainSetMemoryFlags must be an integer from 0 to 9007199254740991/, (v) => dom.setMemoryFlags(v as number, 2)],
    ['setVcpus', /nvcpus in virDomainSetVcpus must be an integer from 0 to 4294967295/, (v) => running.setVcpus(v as number)],
    ['setVcpusFlags', /nvcpus in virDomainSetVcpusFlags must be an integer from 0 to 4294967295/, (v) => dom.setVcpusFlags(v as number, 2)],
    ['interfaceAddresses', /source in virDomainInterfaceAddresses must be an integer from 0 to 2/, (v) => running.interfaceAddresses(v as number)],
  ];
  for (const [, re, call] of numeric) {
    for (const v of [...hostile, 2 ** 64, 2 ** 53]) await invalidArg(() => call(v), re);
  }
  // Past the C type, even where the value would otherwise be a domain's business.
  await invalidArg(() => running.setVcpus(2 ** 32), /nvcpus in virDomainSetVcpus must be an integer from 0 to 4294967295, got 4294967296/);
  await invalidArg(() => running.interfaceAddresses(3), /source in virDomainInterfaceAddresses must be an integer from 0 to 2, got 3/);
  await invalidArg(() => dom.setMaxMemory(0), /memory in virDomainSetMemoryFlags must not be zero/);
  for (const v of hostile.filter((x) => typeof x !== 'boolean')) {
    await invalidArg(() => dom.setAutostart(v as boolean), /autostart in virDomainSetAutostart must be an integer from 0 to 1/);
  }
  const strings: [RegExp, (v: unknown) => Promise<unknown>][] = [
    [/disk in virDomainGetBlockInfo must be a non-empty string/, (v) => running.getBlockInfo(v as string)],
    [/pool in virStoragePoolListAllVolumes must be a non-empty string/, (v) => conn.listAllVolumes(v as string)],
    [/alias in isolateDevice must be a non-empty string/, (v) => running.isolateDevice(v as string)],
    [/alias in persistDevice must be a non-empty string/, (v) => running.persistDevice(v as string)],
  ];
  for (const [re, call] of strings) {
    for (const v of [...hostile.filter((x) => typeof x !== 'string'), '']) await invalidArg(() => call(v), re);
    await invalidArg(() => call('x'.repeat(5000)), /at most 4096 characters/);
  }
  for (const v of hostile.filter((x) => x !== undefined && typeof x !== 'string')) {
    await invalidArg(() => running.openConsole(v as string), /dev_name in virDomainOpenConsole must be a non-empty string/);
    await invalidArg(() => conn.getDomainCapabilities(v as string), /emulatorbin in virConnectGetDomainCapabilities must be a string/);
    await invalidArg(() => conn.getDomainCapabilities(undefined, undefined, v as string), /machine in virConnectGetDomainCapabilities must be a string/);
  }
  const flagged: [string, (f: number) => Promise<unknown>][] = [
    ['virDomainReboot', (f) => running.reboot(f)],
    ['virDomainSetMemoryFlags', (f) => dom.setMemoryFlags(65536, f)],
    ['virDomainSetVcpusFlags', (f) => dom.setVcpusFlags(1, f)],
    ['virDomainInterfaceAddresses', (f) => running.interfaceAddresses(0, f)],
    ['virDomainGetBlockInfo', (f) => running.getBlockInfo('vda', f)],
    ['virDomainOpenConsole', (f) => running.openConsole(undefined, f)],
    ['virConnectGetDomainCapabilities', (f) => conn.getDomainCapabilities(undefined, undefined, undefined, undefined, f)],
    ['virConnectListAllNetworks', (f) => conn.listAllNetworks(f)],
    ['virConnectListAllStoragePools', (f) => conn.listAllStoragePools(f)],
    ['virStoragePoolListAllVolumes', (f) => conn.listAllVolumes('default-pool', f)],
  ];
  for (const [fn, call] of flagged) {
    for (const f of badFlags) await invalidArg(() => call(f as number), new RegExp(`flags in ${fn} must be an unsigned 32-bit integer`));
  }
  assert.deepEqual(await stateOf(conn), before);
  await conn.close();
});

test("detach options are checked where they are passed: any value gives INVALID_ARG naming the option, never a TypeError", async () => {
  const { conn, running } = await setup();
  const before = await stateOf(conn);
  const nic = `<interface type='user'><mac address='52:54:00:00:00:99'/></interface>`;
  const calls: [string, (o: unknown) => Promise<unknown>][] = [
    ['virDomainDetachDevice', (o) => running.detachDevice(nic, o as never)],
    ['virDomainDetachDeviceFlags', (o) => running.detachDeviceFlags(nic, DeviceModify.LIVE, o as never)],
    ['virDomainDetachDeviceAlias', (o) => running.detachDeviceAlias('ua-none', DeviceModify.LIVE, o as never)],
  ];
  for (const [fn, call] of calls) {
    for (const o of [null, 5, 'fast', [], Symbol('o'), () => 1]) await invalidArg(() => call(o), new RegExp(`options in ${fn} must be an object`));
    await invalidArg(() => call({ wait: 5 }), new RegExp(`unknown detach option 'wait' in ${fn}`));
    for (const v of hostile.filter((x) => x !== undefined)) {
      await invalidArg(() => call({ waitMs: v }), new RegExp(`options.waitMs in ${fn} must be an integer from 0 to 3600000`));
      await invalidArg(() => call({ ifPresent: v }), new RegExp(`options.ifPresent in ${fn} must be a boolean`));
      await invalidArg(() => call({ ifBusy: v }), new RegExp(`options.ifBusy in ${fn} must be 'hold' or 'fail'`));
    }
    await invalidArg(() => call({ waitMs: 3_600_001 }), /options.waitMs .* got 3600001/);
    // A getter is read once: the value checked is the value used.
    let reads = 0;
    const flipping = {
      get waitMs() {
        reads++;
        return reads === 1 ? 0 : -5;
      },
      ifPresent: true,
    };
    // (The device is not there: ifPresent makes that success.)
    const r = (await call(flipping)) as { status: string; absent?: boolean };
    assert.deepEqual([r.status, r.absent], ['removed', true]);
    assert.equal(reads, 1);
    const throwing = {
      get waitMs(): number {
        throw new Error('getter');
      },
    };
    await invalidArg(() => call(throwing), new RegExp(`options in ${fn} could not be read`));
  }
  assert.deepEqual(await stateOf(conn), before);
  await conn.close();
});

test('conf.toKiB and its kin check their argument types (INVALID_ARG), then the value (XML_ERROR)', () => {
  const invalidSync = (call: () => unknown, re: RegExp) =>
    assert.throws(call, (e: unknown) => isVirtError(e, ErrorCode.INVALID_ARG) && re.test(e.message));
  for (const v of hostile.filter((x) => typeof x !== 'string')) {
    invalidSync(() => conf.toKiB(v as string, 'MiB', '<memory>'), /value in toKiB must be a string/);
  }
  for (const u of [null, 5, {}, Symbol('u'), Object.create(null)]) invalidSync(() => conf.toKiB('5', u as string, '<memory>'), /unit in toKiB must be a string or undefined/);
  invalidSync(() => conf.toKiB('5', 'MiB', 7 as unknown as string), /what in toKiB must be a string/);
  assert.equal(conf.toKiB('5', 'MiB', '<memory>'), 5120);
  assert.throws(() => conf.toKiB('5', '__proto__', '<memory>'), (e: unknown) => isVirtError(e, ErrorCode.XML_ERROR));
});
