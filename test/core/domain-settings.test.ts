/**
 * Domain settings and guest/host information on the test driver: autostart, memory, vCPUs,
 * reboot, interface addresses, block info, console, node info, capabilities, networks,
 * storage — libvirt's semantics and errors, and VIR_ERR_NO_SUPPORT where a driver has none.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  Connection,
  DomainMemory,
  DomainState,
  DomainVcpus,
  DomainXML,
  ErrorCode,
  InterfaceAddressesSource,
  ListDomains,
  ListNetworks,
  ListStoragePools,
  StoragePoolState,
} from '../../src/index.js';
import { domainXml, freshConnection, rejectsWith } from './helpers.js';

const memoryOf = (xml: string): [string | undefined, string | undefined] => [
  /<memory unit='KiB'>(\d+)<\/memory>/.exec(xml)?.[1],
  /<currentMemory unit='KiB'>(\d+)<\/currentMemory>/.exec(xml)?.[1],
];

test('autostart: marked, listed, kept by a state folder, dropped by undefine; transient domains have none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'virtkit-autostart-'));
  try {
    const uri = `test:///default?state=${dir}`;
    const conn = await Connection.open(uri);
    const dom = await conn.defineXML(domainXml({ name: 'auto' }));
    assert.equal(await dom.getAutostart(), false);
    await dom.setAutostart(true);
    assert.equal(await dom.getAutostart(), true);
    const names = async (flags: number) => (await conn.listAllDomains(flags)).map((d) => d.name).sort();
    assert.deepEqual(await names(ListDomains.ACTIVE | ListDomains.INACTIVE | ListDomains.AUTOSTART), ['auto']);
    assert.deepEqual(await names(ListDomains.ACTIVE | ListDomains.INACTIVE | ListDomains.NO_AUTOSTART), ['test']);
    assert.deepEqual(await names(ListDomains.ACTIVE | ListDomains.INACTIVE | ListDomains.AUTOSTART | ListDomains.NO_AUTOSTART), ['auto', 'test']);
    await conn.close();
    // Another process (connection) on the folder sees the mark.
    const again = await Connection.open(uri);
    const same = await again.lookupByName('auto');
    assert.equal(await same.getAutostart(), true);
    await same.undefine();
    const redefined = await again.defineXML(domainXml({ name: 'auto' }));
    assert.equal(await redefined.getAutostart(), false, 'undefine removed the mark');
    const transient = await again.createXML(domainXml({ name: 'fleeting' }));
    await rejectsWith(transient.setAutostart(true), ErrorCode.OPERATION_INVALID, /cannot set autostart for transient domain/);
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('memory: live balloon, config current and maximum, with libvirt checks', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'mem' }));
  await rejectsWith(dom.setMemory(1024), ErrorCode.OPERATION_INVALID, /domain is not running/);
  await dom.setMemoryFlags(65536, DomainMemory.CONFIG);
  await dom.setMaxMemory(131072);
  assert.deepEqual(memoryOf(await dom.getXMLDesc(DomainXML.INACTIVE)), ['131072', '65536']);
  // Lowering the maximum below the current memory lowers the current memory too.
  await dom.setMemoryFlags(32768, DomainMemory.CONFIG | DomainMemory.MAXIMUM);
  assert.deepEqual(memoryOf(await dom.getXMLDesc(DomainXML.INACTIVE)), ['32768', '32768']);
  await rejectsWith(dom.setMemoryFlags(65536, DomainMemory.CONFIG), ErrorCode.INVALID_ARG, /cannot set memory higher than max memory/);
  await dom.create();
  await dom.setMemory(16384);
  assert.deepEqual(memoryOf(await dom.getXMLDesc()), ['32768', '16384']);
  assert.equal((await dom.getInfo()).memory, 16384);
  assert.deepEqual(memoryOf(await dom.getXMLDesc(DomainXML.INACTIVE)), ['32768', '32768'], 'a live change leaves the config alone');
  await rejectsWith(dom.setMaxMemory(65536), ErrorCode.OPERATION_INVALID, /cannot resize the maximum memory on an active domain/);
  await rejectsWith(dom.setMemory(0), ErrorCode.INVALID_ARG, /must not be zero/);
  await rejectsWith(dom.setMemoryFlags(1024, 8), ErrorCode.INVALID_ARG, /unsupported flags \(0x8\)/);
  await conn.close();
});

test('vCPUs: maximum and current in the config, online count live', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'cpus' }));
  await dom.setVcpusFlags(4, DomainVcpus.CONFIG | DomainVcpus.MAXIMUM);
  await dom.setVcpusFlags(2, DomainVcpus.CONFIG);
  assert.match(await dom.getXMLDesc(DomainXML.INACTIVE), /<vcpu placement='static' current='2'>4<\/vcpu>/);
  await rejectsWith(dom.setVcpusFlags(5, DomainVcpus.CONFIG), ErrorCode.INVALID_ARG, /requested cpu amount exceeds maximum \(5 > 4\)/);
  await dom.create();
  assert.equal((await dom.getInfo()).nrVirtCpu, 2);
  await dom.setVcpus(3);
  assert.equal((await dom.getInfo()).nrVirtCpu, 3);
  await rejectsWith(dom.setVcpusFlags(8, DomainVcpus.LIVE | DomainVcpus.MAXIMUM), ErrorCode.CONFIG_UNSUPPORTED, /live domain/);
  await dom.setVcpusFlags(4, DomainVcpus.CONFIG);
  assert.match(await dom.getXMLDesc(DomainXML.INACTIVE), /<vcpu placement='static'>4<\/vcpu>/, 'current equal to the maximum is not written');
  await rejectsWith(dom.setVcpusFlags(1, DomainVcpus.GUEST), ErrorCode.INVALID_ARG, /unsupported flags \(0x8\)/);
  await conn.close();
});

test("reboot: runs on booted, or stops for on_reboot 'destroy'; a stopped domain cannot", async () => {
  const conn = await freshConnection();
  const t = await conn.lookupByName('test');
  await t.reboot();
  assert.deepEqual(await t.getState(), { state: DomainState.RUNNING, reason: 1 });
  const off = await conn.defineXML(domainXml({ name: 'off' }).replace('</domain>', '<on_reboot>destroy</on_reboot></domain>'));
  await rejectsWith(off.reboot(), ErrorCode.OPERATION_INVALID, /domain is not running/);
  await off.create();
  await off.reboot();
  assert.equal(await off.isActive(), false);
  await conn.close();
});

test("interface addresses and block info answer like libvirt's test driver", async () => {
  const conn = await freshConnection();
  const t = await conn.lookupByName('test');
  const ifaces = await t.interfaceAddresses(InterfaceAddressesSource.LEASE);
  assert.deepEqual(ifaces, [{ name: 'testnet0', hwaddr: 'aa:bb:cc:dd:ee:ff', addrs: [{ type: 0, addr: '192.168.122.3', prefix: 24 }] }]);
  assert.deepEqual(await t.getBlockInfo('vda'), { capacity: 1_099_506_450_432, allocation: 1_099_511_627_776, physical: 1_099_511_627_776 });
  assert.deepEqual(await t.getBlockInfo('/guest/diskimage1'), await t.getBlockInfo('vda'));
  await rejectsWith(t.getBlockInfo('vdz'), ErrorCode.INVALID_ARG, /invalid path vdz not assigned to domain/);
  const stopped = await conn.defineXML(domainXml({ name: 'stopped' }));
  await rejectsWith(stopped.interfaceAddresses(InterfaceAddressesSource.LEASE), ErrorCode.OPERATION_INVALID, /domain is not running/);
  await conn.close();
});

test('console on the test driver echoes what is written', async () => {
  const conn = await freshConnection();
  const t = await conn.lookupByName('test');
  const stream = await t.openConsole();
  stream.write(new TextEncoder().encode('ping'));
  const it = stream.output[Symbol.asyncIterator]();
  assert.equal(new TextDecoder().decode((await it.next()).value), 'ping');
  await stream.close();
  assert.equal((await it.next()).done, true);
  await rejectsWith(t.openConsole('serial9'), ErrorCode.INTERNAL_ERROR, /cannot find character device serial9/);
  await conn.close();
});

test('host: node info, capabilities, the default network and pool; no domain capabilities', async () => {
  const conn = await freshConnection();
  assert.deepEqual(await conn.nodeGetInfo(), { model: 'i686', memory: 3_145_728, cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2 });
  const caps = await conn.getCapabilities();
  assert.match(caps, /^<capabilities>\n\n {2}<host>/);
  assert.equal((caps.match(/<cpu id=/g) ?? []).length, 16);
  assert.match(caps, /<os_type>hvm<\/os_type>[\s\S]*<os_type>xen<\/os_type>/);
  await rejectsWith(conn.getDomainCapabilities(), ErrorCode.NO_SUPPORT, /virConnectGetDomainCapabilities/);
  const nets = await conn.listAllNetworks();
  assert.deepEqual(nets.map((n) => [n.name, n.active, n.bridge]), [['default', true, 'virbr0']]);
  assert.deepEqual(await conn.listAllNetworks(ListNetworks.INACTIVE), []);
  const pools = await conn.listAllStoragePools();
  assert.deepEqual(pools.map((p) => [p.name, p.type, p.state, p.capacity]), [['default-pool', 'dir', StoragePoolState.RUNNING, 100 * 1024 ** 3]]);
  assert.deepEqual(await conn.listAllStoragePools(ListStoragePools.ACTIVE | 512), [], 'a type bit for logical pools selects none');
  assert.deepEqual(await conn.listAllVolumes('default-pool'), []);
  await rejectsWith(conn.listAllVolumes('nosuch'), ErrorCode.NO_STORAGE_POOL, /Storage pool not found: no storage pool with matching name 'nosuch'/);
  await conn.close();
});
