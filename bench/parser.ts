/**
 * The XML parser against hostile shapes: every document is as large as the parser accepts
 * (10 MiB), built to hit one code path as often as possible (many elements, attributes, text runs,
 * references, comments, deep nesting, huge names, errors at the very end). Each is parsed — or
 * refused — and timed against the bound of issue 10: under 1 s. Normal domains are timed too, so a
 * fix for hostile input cannot quietly slow the common case (bench/run.ts's define/getXMLDesc rows
 * compare that end to end against libvirt).
 *
 *   npm run bench:parser          (build, then this file; also the last section of `npm run bench`)
 *   node --import tsx bench/parser.ts [--quick] [--json]
 *     --quick  one timed run per shape instead of the median of 3
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type XmlModule = typeof import('../src/xml/index.js');
const xml = (await import(new URL('../dist/xml/index.js', import.meta.url).href)) as XmlModule;

const LIMIT = xml.MAX_XML_LENGTH;
const BOUND_MS = 1000;
const quick = process.argv.includes('--quick');
const REPS = quick ? 1 : 3;

/** Repeats `unit` to fill the limit between `head` and `tail`. */
function fill(head: string, unit: string, tail: string): string {
  const n = Math.floor((LIMIT - head.length - tail.length) / unit.length);
  return head + unit.repeat(n) + tail;
}

/** Distinct attribute names `a0='' a1='' …` filling the limit (the parser refuses past 256 on one element). */
function manyAttributes(): string {
  const parts: string[] = [];
  let size = 5;
  for (let i = 0; size < LIMIT - 32; i++) {
    const a = ` a${i}=''`;
    parts.push(a);
    size += a.length;
  }
  return `<r${parts.join('')}/>`;
}

/** Elements each carrying the most attributes allowed, until the limit. */
function attributesEverywhere(): string {
  const attrs = Array.from({ length: 255 }, (_, i) => ` a${i}='v'`).join('');
  return fill('<r>', `<e${attrs}/>`, '</r>');
}

/** Elements nested to the deepest level allowed, over and over. */
function deepestAllowed(): string {
  const depth = xml.MAX_XML_DEPTH - 1;
  return fill('<r>', '<a>'.repeat(depth) + '</a>'.repeat(depth), '</r>');
}

const shapes: [string, () => string][] = [
  ['elements on lines: <a/>\\n', () => fill('<r>', '<a/>\n', '</r>')],
  ['elements back to back: <a/>', () => fill('<r>', '<a/>', '</r>')],
  ['element and text: <a/>x', () => fill('<r>', '<a/>x', '</r>')],
  ['open/close pairs: <a></a>', () => fill('<r>', '<a></a>', '</r>')],
  ['attributes on one element', manyAttributes],
  ['255 attributes on every element', attributesEverywhere],
  ['nesting past the depth limit', () => fill('', '<a>', '')],
  ['nesting at the depth limit, repeated', deepestAllowed],
  ['one text run of 10 MiB', () => fill('<r>', 'x', '</r>')],
  ["text of ']]' (CDATA-end look-alikes)", () => fill('<r>', ']]', '</r>')],
  ["']]>' at the very end of the text", () => fill('<r>', 'x', ']]></r>')],
  ['text of &amp; references', () => fill('<r>', '&amp;', '</r>')],
  ['text of &#x1F600; references', () => fill('<r>', '&#x1F600;', '</r>')],
  ['text of newlines (line counting)', () => fill('<r>', '\n', '</s>')],
  ['CRLF text', () => fill('<r>', '\r\n', '</r>')],
  ['emoji text (surrogate checks)', () => fill('<r>', '😀', '</r>')],
  ['one attribute value of 10 MiB', () => fill("<r a='", 'x', "'/>")],
  ['attribute value of &lt; references', () => fill("<r a='", '&lt;', "'/>")],
  ['attribute value of tabs/newlines', () => fill("<r a='", '\t\n', "'/>")],
  ['unterminated attribute value', () => fill("<r a='", 'x', '')],
  ['one comment of 10 MiB', () => fill('<r><!--', 'x', '--></r>')],
  ['many comments: <!---->', () => fill('<r>', '<!---->', '</r>')],
  ['comments before the root', () => fill('', '<!---->', '<r/>')],
  ["comment of '- ' (dash checks)", () => fill('<r><!--', '- ', '--></r>')],
  ['one CDATA section of 10 MiB', () => fill('<r><![CDATA[', 'x', ']]></r>')],
  ['many CDATA sections', () => fill('<r>', '<![CDATA[]]>', '</r>')],
  ['many processing instructions', () => fill('<r>', '<?p?>', '</r>')],
  ['element name of 10 MiB', () => fill('<', 'a', '/>')],
  ['attribute name of 10 MiB', () => fill('<r ', 'a', "='1'/>")],
  ['entity name of 10 MiB', () => fill('<r>&', 'a', ';</r>')],
  ['whitespace inside a start tag', () => fill('<r', ' ', '/>')],
  ['mismatched end tag after 10 MiB', () => fill('<r>', 'x\n', '</q>')],
  ['unterminated document', () => fill('<r>', '<a>x</a>', '')],
];

interface Result {
  shape: string;
  chars: number;
  outcome: string;
  medianMs: number;
}

function time(text: string): { ms: number; outcome: string } {
  const t0 = performance.now();
  let outcome: string;
  try {
    const root = xml.parseXml(text);
    outcome = `parsed (<${root.name.slice(0, 8)}>)`;
  } catch (err) {
    const e = err as { code?: number; message?: string };
    const why = /: ([^:]+)$/.exec(e.message ?? '')?.[1] ?? String(err);
    outcome = `refused (${e.code}): ${why.length > 70 ? why.slice(0, 70) + '…' : why}`;
  }
  return { ms: performance.now() - t0, outcome };
}

function measure(label: string, text: string): Result {
  time(text); // warm-up
  const runs: number[] = [];
  let outcome = '';
  for (let r = 0; r < REPS; r++) {
    const t = time(text);
    runs.push(t.ms);
    outcome = t.outcome;
  }
  runs.sort((a, b) => a - b);
  return { shape: label, chars: text.length, outcome, medianMs: runs[runs.length >> 1]! };
}

/** Normal documents: µs per parse, over enough repetitions to be stable. */
function normal(label: string, text: string): { shape: string; chars: number; usPerParse: number } {
  const n = Math.max(200, Math.round(2_000_000 / text.length));
  for (let i = 0; i < n; i++) xml.parseXml(text);
  const runs: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) xml.parseXml(text);
    runs.push(((performance.now() - t0) * 1000) / n);
  }
  runs.sort((a, b) => a - b);
  return { shape: label, chars: text.length, usPerParse: runs[runs.length >> 1]! };
}

function pad(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 2 || i === 3 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join(' | ')} |`;
  return [line(rows[0]!), `|${w.map((x, i) => (i === 2 || i === 3 ? '-'.repeat(x + 1) + ':' : '-'.repeat(x + 2))).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

// Normal documents first, on a fresh heap (after 10 MiB documents the GC state would blur them).
const domain = readFileSync(fileURLToPath(new URL('./domain.xml', import.meta.url)), 'utf8');
const normals = [normal('bench/domain.xml', domain)];
const corpusBig = process.env['VIRTKIT_CORPUS_DIR'] ?? `${process.env['HOME']}/.cache/libvirt-corpus`;
try {
  const big = readFileSync(`${corpusBig}/libvirt-9.0.0/tests/qemuxml2argvdata/pci-bridge-many-disks.xml`, 'utf8');
  normals.push(normal('corpus: pci-bridge-many-disks.xml', big));
} catch {
  // The corpus is optional here: the row is left out.
}

const results = shapes.map(([label, make]) => measure(label, make()));
const worst = results.reduce((a, b) => (b.medianMs > a.medianMs ? b : a));

console.log(`\nParser: hostile documents at the ${LIMIT.toLocaleString('en-US')}-character limit (bound: ${BOUND_MS} ms each; median of ${REPS})\n`);
console.log(
  pad([
    ['shape', 'outcome', 'chars', 'ms', 'bound', 'met?'],
    ...results.map((r) => [r.shape, r.outcome, r.chars.toLocaleString('en-US'), r.medianMs.toFixed(1), `< ${BOUND_MS} ms`, r.medianMs < BOUND_MS ? 'yes' : 'NO']),
  ]),
);
console.log(`\nworst: ${worst.shape} — ${worst.medianMs.toFixed(1)} ms\n`);
console.log('Parser: normal documents (µs per parse; the end-to-end comparison with libvirt is bench/run.ts)\n');
console.log(pad([['document', 'chars', 'µs/parse', ''], ...normals.map((n) => [n.shape, n.chars.toLocaleString('en-US'), n.usPerParse.toFixed(1), ''])]));
if (process.argv.includes('--json')) console.log(JSON.stringify({ results, normals }));
if (results.some((r) => r.medianMs >= BOUND_MS)) process.exitCode = 1;
