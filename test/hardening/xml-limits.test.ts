/**
 * Issue 10 items 2 and 3: the parser is linear and refuses documents past documented limits (depth,
 * attributes, nodes) with a VirtError naming the limit; the serializer, clone and XML equality walk
 * trees with an explicit stack, so no depth overflows the call stack. Speed itself is measured in
 * bench/parser.ts; these tests only guard against hangs (a generous deadline in a child process).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DeviceModify, DomainXML, ErrorCode, isVirtError } from '../../src/index.js';
import { el, formattedSize, MAX_XML_ATTRIBUTES, MAX_XML_DEPTH, MAX_XML_NODES, parseXml, serializeXml, xmlDiff, xmlEqual, type XmlElement } from '../../src/xml/index.js';
import { domainXml, freshConnection, rejectsWith } from '../core/helpers.js';

const SHAPE = fileURLToPath(new URL('./fixtures/parse-shape.ts', import.meta.url));
const DEADLINE_MS = 60_000;

interface ShapeOutcome {
  ok: boolean;
  code?: number;
  message?: string;
}

/** Parses a hostile shape in a child, killed at the deadline (a hang guard, not a speed measurement). */
function parseShape(shape: string): Promise<ShapeOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SHAPE, shape], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return reject(new Error(`parsing '${shape}' still ran after ${DEADLINE_MS} ms`));
      if (code !== 0) return reject(new Error(`child failed (${code}): ${err}`));
      resolve(JSON.parse(out.trim()) as ShapeOutcome);
    });
  });
}

test('text runs before a long tail parse without rescanning the tail (was quadratic)', async () => {
  const r = await parseShape('text-runs-then-long-tail');
  assert.deepEqual(r, { ok: true, root: 'r', children: 90_001 });
});

test('40,000 attributes before a long text are refused at the limit, not each scanned ahead for "<"', async () => {
  const r = await parseShape('attributes-then-long-text');
  assert.equal(r.ok, false);
  assert.match(r.message!, new RegExp(`more than ${MAX_XML_ATTRIBUTES} attributes`));
});

test('40,000 attributes on one element are refused at the attribute limit', async () => {
  const r = await parseShape('many-attributes');
  assert.equal(r.ok, false);
  assert.equal(r.code, ErrorCode.XML_DETAIL);
  assert.match(r.message!, new RegExp(`element <r> has more than ${MAX_XML_ATTRIBUTES} attributes, the limit`));
});

test('400,000 elements are refused at the node limit', async () => {
  const r = await parseShape('many-elements');
  assert.equal(r.ok, false);
  assert.equal(r.code, ErrorCode.XML_DETAIL);
  assert.match(r.message!, new RegExp(`more than ${MAX_XML_NODES} nodes`));
});

function detail(text: string, re: RegExp): void {
  assert.throws(
    () => parseXml(text),
    (err: unknown) => isVirtError(err, ErrorCode.XML_DETAIL) && re.test(err.message),
  );
}

test('nesting: 256 levels parse, 257 are refused naming the limit', () => {
  const nest = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
  assert.equal(MAX_XML_DEPTH, 256);
  const t = parseXml(nest(256));
  assert.equal(t.name, 'a');
  detail(nest(257), /line 1, column 769: elements nested more than 256 deep, the limit/);
  detail(nest(100_000), /nested more than 256 deep/);
  // Self-closed elements at the deepest level do not nest further.
  parseXml('<a>'.repeat(255) + '<b/>' + '</a>'.repeat(255));
});

test('lower limits can be asked for, never higher ones', () => {
  assert.throws(() => parseXml('<a><b><c/></b></a>', { maxDepth: 2 }), /nested more than 2 deep/);
  assert.throws(() => parseXml("<a x='1' y='2'/>", { maxAttributes: 1 }), /more than 1 attributes/);
  assert.throws(() => parseXml('<a><b/><c/></a>', { maxNodes: 2 }), /more than 2 nodes/);
  assert.throws(() => parseXml('<a>'.repeat(300) + '</a>'.repeat(300), { maxDepth: 10_000 }), /more than 256 deep/);
});

test('predefined entities are looked up safely: &__proto__; and &constructor; are undefined entities', () => {
  detail('<a>&__proto__;</a>', /undefined entity '&__proto__;'/);
  detail("<a b='&constructor;'/>", /undefined entity '&constructor;'/);
  detail('<a>&toString;</a>', /undefined entity/);
  assert.equal(parseXml('<a>&amp;&#x1F600;&#65;</a>').text(), '&😀A');
});

test('attribute normalisation and references: literal tabs/newlines become spaces, references keep them', () => {
  assert.equal(parseXml("<a b='x\ty\nz&#9;&#10;'/>").attr('b'), 'x y z\t\n');
  assert.equal(parseXml("<a b='\r\n'/>").attr('b'), ' ');
  assert.equal(parseXml('<a>\uFEFFx</a>').text(), '\uFEFFx');
  detail("<a b='x\n&bogus;'/>", /line 2, column 1: undefined entity/);
  detail('<a>\r\n\r\n\u0001</a>', /line 3, column 1: character U\+0001/);
});

test('error messages quote at most 64 characters of a hostile name', () => {
  assert.throws(
    () => parseXml(`<a>&${'n'.repeat(100_000)};</a>`),
    (err: unknown) => isVirtError(err, ErrorCode.XML_DETAIL) && err.message.length < 300 && err.message.includes('n'.repeat(64) + '…'),
  );
});

/** A chain of `depth` nested elements built without the parser (which would refuse it). */
function chain(depth: number): XmlElement {
  const root = el('a');
  let cur = root;
  for (let i = 1; i < depth; i++) {
    const next = el('a', { i });
    cur.children.push(next);
    cur = next;
  }
  cur.children.push({ kind: 'text', text: 'leaf' });
  return root;
}

test('serialize, clone and equality walk deep trees without recursion', () => {
  const deep = chain(100_000);
  const copy = deep.clone();
  assert.ok(xmlEqual(deep, copy));
  let leaf = copy;
  while (leaf.children[0]?.kind === 'element') leaf = leaf.children[0];
  leaf.setAttr('i', 'changed');
  assert.match(xmlDiff(deep, copy) ?? '', /^\/a(\/a){99999}: attributes \[i='99999'\] != \[i='changed'\]$/);
  // Mixed content is written inline, at any depth.
  const mixed = el('p', {}, 'text ', chain(100_000));
  const inline = serializeXml(mixed);
  assert.ok(inline.endsWith('leaf</a>' + '</a>'.repeat(99_999) + '</p>\n'));
  assert.equal(formattedSize(mixed).length, inline.length);
  // Element-only content is indented (output grows with depth squared: 5,000 levels are 25 MB).
  const pretty = serializeXml(chain(5_000));
  assert.ok(pretty.startsWith("<a>\n  <a i='1'>\n    <a i='2'>"));
  assert.ok(pretty.includes(`${' '.repeat(2 * 4_999)}<a i='4999'>leaf</a>\n`));
  assert.equal(formattedSize(chain(5_000)).length, pretty.length);
});

test('define with 7,000 nested elements in <metadata> is refused naming the depth limit; nothing is defined', async () => {
  const conn = await freshConnection();
  const deep = '<m:x xmlns:m="urn:x">' + '<m:x>'.repeat(7_000) + '</m:x>'.repeat(7_000) + '</m:x>';
  await rejectsWith(conn.defineXML(domainXml({ name: 'deep', metadata: deep })), ErrorCode.XML_DETAIL, /nested more than 256 deep, the limit/);
  assert.deepEqual((await conn.listAllDomains()).map((d) => d.name), ['test']);
  // Just under the limit, define and dump work and round-trip.
  const ok = '<m:x xmlns:m="urn:x">' + '<m:x>'.repeat(250) + 'v' + '</m:x>'.repeat(250) + '</m:x>';
  const dom = await conn.defineXML(domainXml({ name: 'deep', metadata: ok }));
  const dumped = await dom.getXMLDesc(DomainXML.INACTIVE);
  assert.equal(parseXml(dumped).child('metadata')!.elements().length, 1);
  assert.ok(dumped.includes('<m:x>v</m:x>'));
  await conn.close();
});

test('a CONFIG attach of a device with 5,000 nested elements is refused; the definition is unchanged', async () => {
  const conn = await freshConnection();
  const dom = await conn.defineXML(domainXml({ name: 'att' }));
  const before = await dom.getXMLDesc(DomainXML.INACTIVE);
  const nic = `<interface type='user'><x>${'<y>'.repeat(5_000)}${'</y>'.repeat(5_000)}</x></interface>`;
  await rejectsWith(dom.attachDeviceFlags(nic, DeviceModify.CONFIG), ErrorCode.XML_DETAIL, /nested more than 256 deep/);
  assert.equal(await dom.getXMLDesc(DomainXML.INACTIVE), before);
  await conn.close();
});
