/** Domain lifecycle, lookups, listing filters, info/state on the test driver. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DomainState, DomainStart, DomainXML, ErrorCode, ListDomains } from '../../src/index.js';
import { domainXml, freshConnection, rejectsWith } from './helpers.js';

test('test:///default starts with the running domain "test" (id 1), like libvirt', async () => {
  const conn = await freshConnection();
  const doms = await conn.listAllDomains();
  assert.deepEqual(doms.map((d) => d.name), ['test']);
  const t = await conn.lookupByID(1);
  assert.equal(t.name, 'test');
  assert.equal(t.uuid, '6695eb01-f6a4-8304-79aa-97f2502e193f');
  assert.equal(await t.isActive(), true);
  assert.match(await t.getXMLDesc(), /<target dev='testnet0'\/>/);
  assert.equal(conn.getType(), 'Test');
  assert.equal(conn.getURI(), 'test:///default');
  await conn.close();
  // Each connection gets its own private state.
  const other = await freshConnection();
  await other.defineXML(domainXml({ name: 'only-here' }));
  const third = await freshConnection();
  assert.deepEqual((await third.listAllDomains()).map((d) => d.name), ['test']);
  await other.close();
  await third.close();
});

test('define, start, suspend, resume, shutdown, destroy, undefine, with state, info and ids', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'life' }));
  assert.equal(await dom.getID(), -1);
  assert.deepEqual(await dom.getState(), { state: DomainState.SHUTOFF, reason: 0 });
  await dom.create();
  const id = await dom.getID();
  assert.ok(id > 1);
  assert.deepEqual(await dom.getState(), { state: DomainState.RUNNING, reason: 1 });
  const info = await dom.getInfo();
  assert.equal(info.maxMem, 131072);
  assert.equal(info.memory, 131072);
  assert.equal(info.nrVirtCpu, 1);
  await rejectsWith(dom.create(), ErrorCode.OPERATION_INVALID, /already running/);
  await dom.suspend();
  assert.equal((await dom.getState()).state, DomainState.PAUSED);
  await rejectsWith(dom.suspend(), ErrorCode.OPERATION_INVALID);
  await dom.resume();
  await rejectsWith(dom.resume(), ErrorCode.OPERATION_INVALID, /not paused/);
  await dom.shutdown();
  assert.deepEqual(await dom.getState(), { state: DomainState.SHUTOFF, reason: 1 });
  await rejectsWith(dom.destroy(), ErrorCode.OPERATION_INVALID, /not running/);
  await dom.createWithFlags(DomainStart.PAUSED);
  assert.equal((await dom.getState()).state, DomainState.PAUSED);
  assert.notEqual(await dom.getID(), id, 'a restarted domain gets a new id');
  await dom.destroy();
  assert.deepEqual(await dom.getState(), { state: DomainState.SHUTOFF, reason: 2 });
  await dom.undefine();
  await rejectsWith(conn.lookupByName('life'), ErrorCode.NO_DOMAIN, /no domain with matching name 'life'/);
  await conn.close();
});

test('createXML makes a transient domain that vanishes on destroy; undefine of a running domain makes it transient', async () => {
  const conn = await freshConnection();
  const t = await conn.createXML(domainXml({ name: 'transient' }));
  assert.equal(await t.isPersistent(), false);
  assert.equal(await t.isActive(), true);
  await rejectsWith(t.undefine(), ErrorCode.OPERATION_INVALID, /transient/);
  await t.destroy();
  await rejectsWith(conn.lookupByName('transient'), ErrorCode.NO_DOMAIN);
  const p = await conn.defineXML(domainXml({ name: 'persist' }));
  await p.create();
  await p.undefine();
  assert.equal(await p.isPersistent(), false);
  assert.equal(await p.isActive(), true);
  assert.doesNotMatch(await p.getXMLDesc(DomainXML.INACTIVE), /<alias|<domain[^>]* id=/);
  await p.destroy();
  await rejectsWith(conn.lookupByName('persist'), ErrorCode.NO_DOMAIN);
  await conn.close();
});

test('lookups by name, UUID (any format), id; virsh-style resolution', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'look' }));
  assert.equal((await conn.lookupByUUID(dom.uuid.toUpperCase())).name, 'look');
  assert.equal((await conn.lookupByUUID(dom.uuid.replace(/-/g, ''))).name, 'look');
  assert.equal((await conn.lookup('1')).name, 'test');
  assert.equal((await conn.lookup(dom.uuid)).name, 'look');
  assert.equal((await conn.lookup('look')).name, 'look');
  await rejectsWith(conn.lookupByID(99), ErrorCode.NO_DOMAIN);
  // libvirt: a malformed UUID string is an invalid argument, not an unknown domain.
  await rejectsWith(conn.lookupByUUID('nope'), ErrorCode.INVALID_ARG, /must be a valid UUID/);
  await rejectsWith(conn.lookupByUUID('11111111-2222-3333-4444-555555555555'), ErrorCode.NO_DOMAIN);
  await conn.close();
});

test('listAllDomains honours libvirt filter flags', async () => {
  const conn = await freshConnection();
  const off = await conn.defineXML(domainXml({ name: 'off' }));
  const paused = await conn.defineXML(domainXml({ name: 'paused' }));
  await paused.createWithFlags(DomainStart.PAUSED);
  await conn.createXML(domainXml({ name: 'tran' }));
  const names = async (flags: number) => (await conn.listAllDomains(flags)).map((d) => d.name).sort();
  assert.deepEqual(await names(0), ['off', 'paused', 'test', 'tran']);
  assert.deepEqual(await names(ListDomains.ACTIVE), ['paused', 'test', 'tran']);
  assert.deepEqual(await names(ListDomains.INACTIVE), ['off']);
  assert.deepEqual(await names(ListDomains.TRANSIENT), ['tran']);
  assert.deepEqual(await names(ListDomains.PERSISTENT | ListDomains.ACTIVE), ['paused', 'test']);
  assert.deepEqual(await names(ListDomains.PAUSED), ['paused']);
  assert.deepEqual(await names(ListDomains.RUNNING | ListDomains.SHUTOFF), ['off', 'test', 'tran']);
  assert.deepEqual(await names(ListDomains.AUTOSTART), []);
  assert.deepEqual(await names(ListDomains.NO_AUTOSTART | ListDomains.INACTIVE), ['off']);
  await rejectsWith(conn.listAllDomains(1 << 20), ErrorCode.INVALID_ARG);
  void off;
  await conn.close();
});

test('redefining an existing name updates its config; a running domain keeps its live definition', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'redef' }));
  await dom.create();
  const uuidLine = `<uuid>${dom.uuid}</uuid>`;
  await conn.defineXML(domainXml({ name: 'redef' }).replace('<name>redef</name>', `<name>redef</name>${uuidLine}`).replace("unit='MiB'>128", "unit='MiB'>256"));
  assert.match(await dom.getXMLDesc(DomainXML.INACTIVE), /262144/);
  assert.match(await dom.getXMLDesc(), /131072/);
  await conn.close();
});

test('defaults: uuid, KiB memory, vcpu, os, lifecycle actions, qemu implicit devices and PCI addresses', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(
    `<domain type='kvm'><name>defaults</name><memory unit='GiB'>1</memory><devices>` +
      `<disk type='file'><source file='/a'/><target dev='sda'/></disk>` +
      `<interface type='network'><source network='default'/></interface></devices></domain>`,
  );
  const x = await dom.getXMLDesc(DomainXML.INACTIVE);
  assert.match(x, /<uuid>[0-9a-f-]{36}<\/uuid>/);
  assert.match(x, /<memory unit='KiB'>1048576<\/memory>/);
  assert.match(x, /<currentMemory unit='KiB'>1048576<\/currentMemory>/);
  assert.match(x, /<vcpu placement='static'>1<\/vcpu>/);
  // QEMU 7.2 (the test driver's default capabilities) resolves the machine a kvm guest gets to its versioned name.
  assert.match(x, /<type arch='x86_64' machine='pc-i440fx-7.2'>hvm<\/type>\s*<boot dev='hd'\/>/);
  assert.match(x, /<cpu mode='custom' match='exact' check='none'>\s*<model fallback='forbid'>qemu64<\/model>\s*<\/cpu>\s*<clock offset='utc'\/>/);
  assert.match(x, /<driver name='qemu' type='raw'\/>\s*<source file='\/a'\/>/);
  assert.match(x, /<controller type='usb' index='0' model='piix3-uhci'>/);
  assert.match(x, /<model type='rtl8139'\/>/);
  assert.match(x, /<on_poweroff>destroy<\/on_poweroff>\s*<on_reboot>restart<\/on_reboot>\s*<on_crash>destroy<\/on_crash>/);
  assert.match(x, /<emulator>\/usr\/bin\/qemu-system-x86_64<\/emulator>/);
  assert.match(x, /<target dev='sda' bus='scsi'\/>\s*<address type='drive' controller='0' bus='0' target='0' unit='0'\/>/);
  assert.match(x, /<controller type='scsi' index='0' model='lsilogic'>/);
  assert.match(x, /<mac address='52:54:00(:[0-9a-f]{2}){3}'\/>/);
  assert.match(x, /<controller type='pci' index='0' model='pci-root'\/>/);
  assert.match(x, /<memballoon model='virtio'>/);
  assert.match(x, /<input type='keyboard' bus='ps2'\/>\s*<audio id='1' type='none'\/>\s*<memballoon/);
  assert.doesNotMatch(x, /<alias/);
  // Starting adds aliases for everything, including the implicit devices.
  await dom.create();
  const live = await dom.getXMLDesc();
  for (const a of ['scsi0-0-0', 'net0', 'scsi0', 'usb', 'pci.0', 'input0', 'input1', 'balloon0']) assert.match(live, new RegExp(`<alias name='${a}'/>`), a);
  await conn.close();
});

test('typed definitions are public: conf.parseDomainXml gives typed views with defaults', async () => {
  const { conf } = await import('../../src/index.js');
  const def = conf.parseDomainXml(domainXml({ name: 'typed', devices: `<interface type='network'><source network='default'/></interface>` }));
  assert.equal(def.name, 'typed');
  assert.equal(def.memoryKiB, 131072);
  assert.deepEqual(def.disks().map((d) => [d.target, d.bus, d.source]), [['vda', 'virtio', '/var/lib/virtkit/typed.img']]);
  const [nic] = def.interfaces();
  assert.equal(nic?.type, 'network');
  assert.equal(nic?.source, 'default');
  assert.match(nic?.mac ?? '', /^52:54:00:/);
  assert.ok(def.devices().some((d) => d.kind === 'memballoon'));
  assert.equal(def.os.machine, 'pc-i440fx-7.2');
});
