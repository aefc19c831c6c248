/**
 * serializeXml writes UTF-8 bytes and decodes them once (serialize-bytes.ts); the string-piece
 * serializer is the reference: same text, and serializeXmlBytes equals Buffer.from of that text,
 * and serializeXmlMeasured gives those bytes with formattedSize's figures (define's size check),
 * on hand-made edge cases and on every XML file of libvirt's corpus.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { el, formattedSize, parseXml, serializeXml, serializeXmlBytes, serializeXmlMeasured, type XmlElement } from '../src/xml/index.js';
import { serializeXmlPieces } from '../src/xml/serialize.js';
import { setupCorpus, unavailable } from './conformance/corpus.js';

function same(tree: XmlElement, indent = '', what = tree.name): void {
  const reference = serializeXmlPieces(tree, indent);
  assert.equal(serializeXml(tree, indent), reference, what);
  assert.deepEqual(serializeXmlBytes(tree, indent), Buffer.from(reference, 'utf8'), what);
  if (indent !== '') return;
  // Define formats and measures in one walk: the same bytes, and formattedSize's figures.
  const measured = serializeXmlMeasured(tree);
  assert.deepEqual(measured.bytes, Buffer.from(reference, 'utf8'), what);
  assert.deepEqual(measured.size, formattedSize(tree), what);
}

test('serializeXml and serializeXmlBytes write what the string-piece serializer writes', () => {
  const doc = parseXml(
    `<domain type='kvm'><!-- c --><name>a &amp; b &lt;c&gt; "q" 'a'</name><description>é ü 漢字 😀</description>` +
      `<metadata><m:x xmlns:m='urn:x' v="it's &quot;q&quot; &#10;&#13;&#9;&amp;&lt;&gt;"><?pi body?><?bare?>` +
      `<![CDATA[<raw> & ]]>mixed <b>bold</b> tail</m:x></metadata><devices>\n  <disk/>\n  <disk type='file'><target dev='vda'/></disk></devices></domain>`,
  );
  same(doc);
  same(doc, '    ', 'indented');
  same(el('empty'));
  same(el('t', { a: '😀é' }, 'x'));
  // A lone surrogate (only code can put one in a tree: the parser refuses it): Buffer.from's U+FFFD in bytes, the text kept.
  const lone = el('t', { a: '\uD800x' }, 'y\uDC00');
  assert.equal(serializeXml(lone), serializeXmlPieces(lone));
  assert.deepEqual(serializeXmlBytes(lone), Buffer.from(serializeXmlPieces(lone), 'utf8'));
  assert.deepEqual(serializeXmlMeasured(lone).size, formattedSize(lone));
  // Big enough to grow the scratch past its kept size, then a small one again.
  const big = el('big', {}, ...Array.from({ length: 20_000 }, (_, i) => el('i', { n: i }, 'é'.repeat(3))));
  same(big);
  same(doc);
});

const corpus = setupCorpus();
if (typeof corpus === 'string') unavailable('serializeXml bytes on the corpus', corpus);
else {
  test('serializeXml and serializeXmlBytes match the string-piece serializer on every corpus XML file', () => {
    let files = 0;
    const todo = [corpus.tests];
    while (todo.length > 0) {
      const dir = todo.pop()!;
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) {
          todo.push(join(dir, e.name));
          continue;
        }
        if (!e.name.endsWith('.xml')) continue;
        let tree: XmlElement;
        try {
          tree = parseXml(readFileSync(join(dir, e.name), 'utf8'));
        } catch {
          continue; // deliberately malformed inputs
        }
        same(tree, '', join(dir, e.name));
        files++;
      }
    }
    assert.ok(files > 3000, `${files} files`);
  });
}
