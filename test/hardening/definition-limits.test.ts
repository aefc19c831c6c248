/**
 * Definitions stay within what virtkit can read back (issue 10 item 8 and the limits table): a device
 * holding thousands of unknown elements is refused, and a definition that would format past the
 * parser's limits (length, nodes, depth) is refused at define/attach, leaving every definition as it was.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { conf, DeviceModify, DomainXML, ErrorCode } from '../../src/index.js';
import { formattedSize, MAX_XML_LENGTH, MAX_XML_NODES, parseXml, serializeXml } from '../../src/xml/index.js';
import { setupCorpus, unavailable } from '../conformance/corpus.js';
import { domainXml, freshConnection, rejectsWith, stateOf } from '../core/helpers.js';

const stuffedNic = `<interface type='user'>${'<disk/>'.repeat(50_000)}</interface>`;

test('an <interface> holding 50,000 <disk> elements is refused on define and attach', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'nic' }));
  await dom.create();
  const before = await stateOf(conn);
  const limit = new RegExp(`device <interface> holds more than ${conf.MAX_DEVICE_NODES} XML nodes`);
  await rejectsWith(conn.defineXML(domainXml({ name: 'stuffed', devices: stuffedNic })), ErrorCode.XML_ERROR, limit);
  await rejectsWith(dom.attachDeviceFlags(stuffedNic, DeviceModify.LIVE | DeviceModify.CONFIG), ErrorCode.XML_ERROR, limit);
  await rejectsWith(dom.attachDeviceFlags(stuffedNic, DeviceModify.CONFIG), ErrorCode.XML_ERROR, limit);
  await rejectsWith(dom.updateDeviceFlags(stuffedNic, DeviceModify.LIVE), ErrorCode.XML_ERROR, limit);
  await rejectsWith(dom.detachDeviceFlags(stuffedNic, DeviceModify.LIVE), ErrorCode.XML_ERROR, limit);
  assert.deepEqual(await stateOf(conn), before);
  // A device of ordinary size with some unknown content is still kept verbatim.
  await dom.attachDeviceFlags(`<interface type='user'><mac address='52:54:00:00:00:42'/><future a='1'><x/></future></interface>`, DeviceModify.CONFIG);
  assert.match(await dom.getXMLDesc(DomainXML.INACTIVE), /<future a='1'>\s*<x\/>\s*<\/future>/);
  await conn.close();
});

test('a definition that would format past 10 MiB is refused (escaping grows it), not stored unreadable', async () => {
  const conn = await freshConnection();
  const before = await stateOf(conn);
  // 3 MiB of '>' in the description is 12 MiB once written as &gt;.
  const xml = domainXml({ name: 'wide' }).replace('<memory', `<description>${'>'.repeat(3 * 1024 * 1024)}</description><memory`);
  await rejectsWith(conn.defineXML(xml), ErrorCode.XML_ERROR, new RegExp(`would be \\d+ characters once formatted, over the limit of ${MAX_XML_LENGTH}`));
  assert.deepEqual(await stateOf(conn), before);
  await conn.close();
});

test('a definition near the node limit works; an attach that would pass it is refused, config unchanged', async () => {
  const conn = await freshConnection();
  // Compact input: formatting adds indentation, which the node count leaves out, so it reads back.
  const room = 300;
  const items = (MAX_XML_NODES - room) / 2; // <m:i a='1'/>: an element and an attribute
  const meta = `<m:x xmlns:m='urn:x'>${"<m:i a='1'/>".repeat(items)}</m:x>`;
  const dom = await conn.defineXML(domainXml({ name: 'full', metadata: meta }));
  const inactive = await dom.getXMLDesc(DomainXML.INACTIVE);
  assert.ok(formattedSize(parseXml(inactive)).nodes <= MAX_XML_NODES);
  // The stored definition reads back for every later call, and its dump can be defined again.
  assert.equal(await dom.isActive(), false);
  await conn.defineXML(inactive);
  const nics = Array.from({ length: 40 }, (_, i) => `<interface type='user'><mac address='52:54:00:00:01:${i.toString(16).padStart(2, '0')}'/></interface>`);
  let refused = 0;
  for (const nic of nics) {
    try {
      await dom.attachDeviceFlags(nic, DeviceModify.CONFIG);
    } catch (err) {
      refused++;
      assert.match(String(err), new RegExp(`would hold \\d+ XML nodes, over the limit of ${MAX_XML_NODES}`));
      break;
    }
  }
  assert.equal(refused, 1, 'some attach must hit the node limit');
  const after = await dom.getXMLDesc(DomainXML.INACTIVE);
  assert.ok(formattedSize(parseXml(after)).nodes <= MAX_XML_NODES);
  await conn.close();
});

test('a definition nested to the depth limit runs, and its status reads back (state folder)', async () => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'virtkit-limits-'));
  try {
    const { Connection } = await import('../../src/index.js');
    const conn = await Connection.open(`test:///default?state=${dir}`);
    // <domain>(1) <metadata>(2) <m:x>(3) … : 256 levels in all.
    const meta = `<m:x xmlns:m='urn:x'>${'<m:x>'.repeat(253)}${'</m:x>'.repeat(253)}</m:x>`;
    const dom = await conn.defineXML(domainXml({ name: 'deepest', metadata: meta }));
    await dom.create();
    await conn.close();
    const again = await Connection.open(`test:///default?state=${dir}`);
    const d = await again.lookupByName('deepest');
    assert.equal(await d.isActive(), true);
    assert.equal(formattedSize(parseXml(await d.getXMLDesc())).depth, 256);
    await again.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

const corpus = setupCorpus();
if (typeof corpus === 'string') unavailable('formattedSize matches serializeXml on the corpus', corpus);
else {
  test('formattedSize matches serializeXml on every corpus XML file (length and re-parse node count)', () => {
    let files = 0;
    const all: string[] = [];
    const todo = [corpus.tests];
    while (todo.length > 0) {
      const dir = todo.pop()!;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) todo.push(join(dir, e.name));
        else if (e.name.endsWith('.xml')) all.push(join(dir, e.name));
      }
    }
    for (const f of all) {
      let tree: ReturnType<typeof parseXml>;
      try {
        tree = parseXml(readFileSync(f, 'utf8'));
      } catch {
        continue; // deliberately malformed inputs
      }
      const text = serializeXml(tree);
      const size = formattedSize(tree);
      assert.equal(size.length, text.length, f);
      parseXml(text, { maxNodes: size.nodes });
      assert.throws(() => parseXml(text, { maxNodes: size.nodes - 1 }), /nodes/, f);
      files++;
    }
    assert.ok(files > 3000, `${files} files`);
  });
}
