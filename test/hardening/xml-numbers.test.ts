/**
 * Numbers read from XML that size work: past libvirt's limits they are refused, and below them the
 * work follows what the document names, not the number (issue 10 item 1; two fuzz stalls).
 * - A PCI controller's index is its bus number: PCI address assignment builds every bus up to the
 *   highest index, so `index='559660097549883586092'` looped (and filled memory) for ever.
 * - `<vcpu>` with guest NUMA: vCPUs no cell names join cell 0, which counted them one by one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Connection, DeviceModify, ErrorCode } from '../../src/index.js';
import { domainXml, freshConnection, rejectsWith, stateOf } from '../core/helpers.js';

const pciController = (index: string, model = 'pci-bridge') => `<controller type='pci' index='${index}' model='${model}'/>`;

test("a PCI controller index is a bus number (0-255, libvirt's limit); a controller index is a C int", async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'pci' }));
  await dom.create();
  const before = await stateOf(conn);
  const tooHigh = (n: string) => new RegExp(`^unsupported configuration: PCI controller index ${n} too high, maximum is 255$`);
  await rejectsWith(conn.defineXML(domainXml({ name: 'p256', devices: pciController('256') })), ErrorCode.CONFIG_UNSUPPORTED, tooHigh('256'));
  await rejectsWith(dom.attachDeviceFlags(pciController('256'), DeviceModify.CONFIG), ErrorCode.CONFIG_UNSUPPORTED, tooHigh('256'));
  await rejectsWith(dom.attachDeviceFlags(pciController('65535', 'pcie-root-port'), DeviceModify.CONFIG), ErrorCode.CONFIG_UNSUPPORTED, tooHigh('65535'));
  // The fuzz input that stalled attach (seed 2000000, batch 1063): past a C int, as libvirt's parser says.
  const notInt = /Invalid value for attribute 'index' in element 'controller': '559660097549883586092'\. Expected integer value/;
  const stalled = `<controller type='pci' index='559660097549883586092' model='pcie-root-port'><model name='pcie-root-port'/><target chassis='1' port='0x8'/>
    <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0' multifunction='on'/></controller>`;
  await rejectsWith(dom.attachDeviceFlags(stalled, DeviceModify.CONFIG), ErrorCode.XML_ERROR, notInt);
  await rejectsWith(conn.defineXML(domainXml({ name: 'huge', devices: stalled })), ErrorCode.XML_ERROR, notInt);
  await rejectsWith(conn.defineXML(domainXml({ name: 'big', devices: "<controller type='scsi' index='2147483648'/>" })), ErrorCode.XML_ERROR, /'2147483648'\. Expected integer value/);
  await rejectsWith(conn.defineXML(domainXml({ name: 'neg', devices: "<controller type='scsi' index='-1'/>" })), ErrorCode.XML_ERROR, /'-1'\. Expected non-negative value/);
  assert.deepEqual(await stateOf(conn), before);

  // The highest index works: the buses below it are added as bridges, one controller per bus.
  const top = await conn.defineXML(domainXml({ name: 'p255', devices: pciController('255') }));
  const pci = (await top.getXMLDesc()).match(/<controller type='pci' index='\d+'/g) ?? [];
  assert.equal(pci.length, 256);
  assert.equal(new Set(pci).size, 256);
  // Other controllers may use any C int as an index (nothing is built per index below it).
  await conn.defineXML(domainXml({ name: 'scsi-max', devices: "<controller type='scsi' index='2147483647'/>" }));
  await conn.close();
});

const numa = (cells: string[]) => `<cpu><numa>${cells.map((cpus, id) => `<cell id='${id}' cpus='${cpus}' memory='65536' unit='KiB'/>`).join('')}</numa></cpu>`;

function withVcpus(name: string, vcpus: string, cells: string[]): string {
  return domainXml({ name }).replace('<os>', `<vcpu>${vcpus}</vcpu>${numa(cells)}<os>`);
}

const cellCpus = async (conn: Connection, name: string) =>
  [...(await (await conn.lookupByName(name)).getXMLDesc()).matchAll(/<cell id='\d+' cpus='([^']*)'/g)].map((m) => m[1]);

test('vCPUs no NUMA cell names join cell 0 as ranges, whatever <vcpu> says; <vcpu> past an unsigned int is refused', async () => {
  const conn = await freshConnection();
  // 2^32 - 1 vCPUs: before, cell 0 got them one at a time (a RangeError once a Set passed 2^24 entries).
  await conn.defineXML(withVcpus('most', '4294967295', ['0']));
  assert.deepEqual(await cellCpus(conn, 'most'), ['0-4294967294']);
  // Ids up to libvirt's cpumask length (16384) are checked one by one, the rest is one range.
  await conn.defineXML(withVcpus('split', '20000', ['0', '16383']));
  assert.deepEqual(await cellCpus(conn, 'split'), ['0-16382,16384-19999', '16383']);
  await conn.defineXML(withVcpus('joined', '16385', ['5', '3']));
  assert.deepEqual(await cellCpus(conn, 'joined'), ['0-2,4-16384', '3']);
  await conn.defineXML(withVcpus('small', '8', ['0-1', '2-3']));
  assert.deepEqual(await cellCpus(conn, 'small'), ['0-1,4-7', '2-3']);

  const before = await stateOf(conn);
  await rejectsWith(conn.defineXML(withVcpus('over', '4294967296', ['0'])), ErrorCode.XML_ERROR, /^XML error: maximum vcpus count must be an integer$/);
  assert.deepEqual(await stateOf(conn), before);
  await conn.close();
});
