/** The XML layer: our strict parser, the libvirt-style serializer and XML equality. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isVirtError } from '../src/index.js';
import { el, parseXml, serializeXml, xmlDiff, xmlEqual, type XmlElement } from '../src/xml/index.js';

function detail(text: string, re?: RegExp): void {
  assert.throws(
    () => parseXml(text),
    (err: unknown) => {
      assert.ok(isVirtError(err, ErrorCode.XML_DETAIL), String(err));
      if (re) assert.match(err.message, re);
      return true;
    },
    text,
  );
}

test('references decode and re-encode: &amp; &lt; &#x2014; &#169; &quot; &apos;', () => {
  const t = parseXml(`<a x="1 &amp; 2 &lt; 3 &quot;q&quot; &apos;s&apos;">&amp; &lt; &gt; &#x2014; &#169;</a>`);
  assert.equal(t.attr('x'), `1 & 2 < 3 "q" 's'`);
  assert.equal(t.text(), '& < > — ©');
  const out = serializeXml(t);
  assert.equal(out, `<a x='1 &amp; 2 &lt; 3 &quot;q&quot; &apos;s&apos;'>&amp; &lt; &gt; — ©</a>\n`);
  assert.ok(xmlEqual(parseXml(out), t));
});

test('libvirt layout: two-space indent, single quotes, self-closed empty elements, text inline', () => {
  const t = parseXml(`<domain type="kvm"><name>x</name><devices><input type="tablet" bus="usb"></input>\n\n<link state="up"/></devices></domain>`);
  assert.equal(
    serializeXml(t),
    `<domain type='kvm'>\n  <name>x</name>\n  <devices>\n    <input type='tablet' bus='usb'/>\n    <link state='up'/>\n  </devices>\n</domain>\n`,
  );
});

test('unknown elements, attributes, comments, CDATA and PIs are kept in place and in order', () => {
  const src = `<domain type='kvm' zz='1' aa='2'><!-- keep me --><future a='1'><deep><![CDATA[<raw> & stuff]]></deep></future><?pi body?><name>n</name></domain>`;
  const t = parseXml(src);
  assert.deepEqual(t.attrs, [['type', 'kvm'], ['zz', '1'], ['aa', '2']]);
  const out = serializeXml(t);
  assert.match(out, /<!-- keep me -->\s*<future a='1'>\s*<deep><!\[CDATA\[<raw> & stuff\]\]><\/deep>/);
  assert.match(out, /<\?pi body\?>\s*<name>n<\/name>/);
  assert.ok(xmlEqual(parseXml(out), t));
});

test('mixed content is written exactly; text-only whitespace is layout', () => {
  const t = parseXml(`<description>line one\n  line two <b>bold</b> tail</description>`);
  assert.equal(serializeXml(t), `<description>line one\n  line two <b>bold</b> tail</description>\n`);
  assert.ok(xmlEqual(parseXml('<d>\n</d>'), parseXml('<d/>')));
});

test('dropLayout leaves out whitespace between elements only where the content is element-only', () => {
  const text = `<a>\n  <b x='1'>\n    <c/>\n  </b>\n  <!-- note -->\n  <m>one <i>two</i> <i>three</i></m>\n  <w>   </w>\n  <d><![CDATA[x]]>\n  <e/></d>\n</a>`;
  const kept = parseXml(text);
  const dropped = parseXml(text, { dropLayout: true });
  // Formatting replaces layout with its own indentation: the same document either way.
  assert.equal(serializeXml(dropped), serializeXml(kept));
  const kinds = (e: XmlElement | undefined): string[] => (e?.children ?? []).map((c) => (c.kind === 'text' ? `text:${c.text}` : c.kind));
  assert.deepEqual(kinds(dropped), ['element', 'comment', 'element', 'element', 'element']);
  assert.deepEqual(kinds(dropped.child('b')), ['element']);
  // Mixed content keeps every run, the whitespace-only one between the two <i> too.
  assert.deepEqual(kinds(dropped.child('m')), ['text:one ', 'element', 'text: ', 'element']);
  // Nothing but whitespace: kept as written (its text is what the element holds).
  assert.deepEqual(kinds(dropped.child('w')), ['text:   ']);
  // CDATA makes the content mixed: the layout after it stays.
  assert.deepEqual(kinds(dropped.child('d')), ['cdata', 'text:\n  ', 'element']);
  assert.equal(kinds(kept).length, 11);
});

test('names and short values come back exactly through the parser\'s fixed-size string cache, whatever collides', () => {
  // 20,000 distinct spellings through a cache of 4,096 slots: every slot is taken over many times.
  const parts: string[] = [];
  for (let i = 0; i < 20_000; i++) parts.push(`<n${i.toString(36)} v${i % 7}='${(i * 7919).toString(36)}'/>`);
  const text = `<r>${parts.join('')}</r>`;
  for (let pass = 0; pass < 2; pass++) {
    const kids = parseXml(text).elements();
    assert.equal(kids.length, 20_000);
    for (let i = 0; i < kids.length; i += 1) {
      assert.equal(kids[i]!.name, `n${i.toString(36)}`);
      assert.equal(kids[i]!.attr(`v${i % 7}`), (i * 7919).toString(36));
    }
  }
});

test('XML declaration, BOM, CRLF and surrounding comments are accepted', () => {
  const t = parseXml(`\uFEFF<?xml version='1.0' encoding='UTF-8'?>\r\n<!-- c -->\r\n<a>x\r\ny</a>\r\n<!-- after -->\r\n`);
  assert.equal(t.text(), 'x\ny');
});

test('malformed XML is VIR_ERR_XML_DETAIL with line and column', () => {
  detail(`<domain>\n  <name>x</name>\n</domian>`, /line 3, column 3: end tag <\/domian> does not match <domain>/);
  detail(`<a>`, /unterminated element <a>/);
  detail(`<a b=1/>`, /must be quoted/);
  detail(`<a b='1' b='2'/>`, /duplicate attribute b/);
  detail(`<a b='<'/>`, /'<' is not allowed/);
  detail(`<a b='1'c='2'/>`, /whitespace between attributes/);
  detail(`<a/><b/>`, /content after the root element/);
  detail(`text<a/>`, /content before the root element/);
  detail(`<1a/>`, /expected element name/);
  detail(`<a>&amp</a>`, /unterminated entity/);
  detail(`<a>&#0;</a>`, /invalid character reference/);
  detail(`<a>&#xD800;</a>`, /invalid character reference/);
  detail(`<a>]]></a>`, /']]>' is not allowed/);
  detail(`<a><!-- a -- b --></a>`, /'--' is not allowed/);
  detail(`<a>\u0001</a>`, /U\+0001 is not allowed/);
  detail(`<a/><?xml version='1.0'?>`, /XML declaration allowed only at the start/);
  detail(`<a><![CDATA[x</a>`, /unterminated CDATA/);
  detail(`   `, /empty/);
});

test('DOCTYPE is refused before any entity is looked at: no XXE, no billion laughs', () => {
  const lol = `<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">${Array.from({ length: 9 }, (_, i) => `<!ENTITY ${'b'.repeat(i + 1)} "${`&${i ? 'b'.repeat(i) : 'a'};`.repeat(10)}">`).join('')}]><l>&bbbbbbbbb;</l>`;
  detail(lol, /DOCTYPE and entity declarations are not allowed/);
  detail(`<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>`, /DOCTYPE/);
  detail(`<x>&ext;</x>`, /undefined entity '&ext;'/);
});

test('documents over the limit are VIR_ERR_XML_ERROR without being parsed', () => {
  assert.throws(() => parseXml(`<a>${'x'.repeat(100)}</a>`, { maxLength: 50 }), (e: unknown) => isVirtError(e, ErrorCode.XML_ERROR) && /too large/.test(e.message));
});

test('tree edits: ordered insertion, attributes in place, clone independence', () => {
  const t = parseXml(`<interface type='network'><source network='default'/><model type='virtio'/></interface>`);
  t.insertOrdered(el('mac', { address: '52:54:00:00:00:01' }), ['mac', 'source', 'model']);
  t.setAttr('type', 'bridge');
  const c = t.clone();
  c.child('model')!.setAttr('type', 'e1000');
  assert.equal(serializeXml(t), `<interface type='bridge'>\n  <mac address='52:54:00:00:00:01'/>\n  <source network='default'/>\n  <model type='virtio'/>\n</interface>\n`);
  assert.match(xmlDiff(t, c) ?? '', /\/interface\/model: attributes/);
});
