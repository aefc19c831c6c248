/**
 * serializeXml's layout written straight into UTF-8 bytes. Definitions are stored as UTF-8 buffers
 * and formatted on every define: building the text from string pieces and encoding it afterwards
 * made ~10x the document's size in short-lived strings, which is what grows V8's young generation
 * when thousands of domains are defined in a row. Here the bytes go into one reused scratch array.
 */
import type { FormattedSize } from './serialize.js';
import { XmlElement, type XmlNode } from './tree.js';

/** Scratch kept between calls; a larger one (a huge definition) is dropped after its call. */
const KEEP_BYTES = 64 * 1024;
let out = new Uint8Array(KEEP_BYTES);
let pos = 0;
/** A lone surrogate was written (as U+FFFD, as Buffer.from does): the bytes do not decode to the text. */
let lossy = false;
/** Bytes written beyond one per UTF-16 code unit of the text (so the text's length is pos - wide). */
let wide = 0;
/** Nodes the parser would count reading the text back, and the deepest element (formattedSize's figures). */
let nodes = 0;
let depth = 0;

function room(n: number): void {
  if (pos + n <= out.length) return;
  let size = out.length * 2;
  while (size < pos + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(out.subarray(0, pos));
  out = next;
}

/** Writes code unit `c` at `i` of `s` (a non-ASCII one); returns the index of the last unit used. */
function writeWide(s: string, i: number, c: number): number {
  if (c < 0x800) {
    out[pos++] = 0xc0 | (c >> 6);
    out[pos++] = 0x80 | (c & 0x3f);
    wide += 1;
    return i;
  }
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      out[pos++] = 0xf0 | (cp >> 18);
      out[pos++] = 0x80 | ((cp >> 12) & 0x3f);
      out[pos++] = 0x80 | ((cp >> 6) & 0x3f);
      out[pos++] = 0x80 | (cp & 0x3f);
      wide += 2;
      return i + 1;
    }
  }
  if (c >= 0xd800 && c <= 0xdfff) {
    lossy = true;
    c = 0xfffd;
  }
  out[pos++] = 0xe0 | (c >> 12);
  out[pos++] = 0x80 | ((c >> 6) & 0x3f);
  out[pos++] = 0x80 | (c & 0x3f);
  wide += 2;
  return i;
}

/** Writes `s` as it is. */
function raw(s: string): void {
  room(s.length * 3);
  const o = out;
  let p = pos;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) o[p++] = c;
    else {
      pos = p;
      i = writeWide(s, i, c);
      p = pos;
    }
  }
  pos = p;
}

function entity(e: string): void {
  for (let i = 0; i < e.length; i++) out[pos++] = e.charCodeAt(i);
}

/** Text content: & < > escaped (escapeText). */
function text(s: string): void {
  room(s.length * 5);
  const o = out;
  let p = pos;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 && c !== 38 && c !== 60 && c !== 62) {
      o[p++] = c;
      continue;
    }
    pos = p;
    if (c === 38) entity('&amp;');
    else if (c === 60) entity('&lt;');
    else if (c === 62) entity('&gt;');
    else i = writeWide(s, i, c);
    p = pos;
  }
  pos = p;
}

/** An attribute value in single quotes (escapeAttr). */
function attrValue(s: string): void {
  room(s.length * 6);
  const o = out;
  let p = pos;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 && c > 39 && c !== 60 && c !== 62) {
      o[p++] = c;
      continue;
    }
    pos = p;
    if (c >= 0x80) i = writeWide(s, i, c);
    else if (c === 38) entity('&amp;');
    else if (c === 60) entity('&lt;');
    else if (c === 62) entity('&gt;');
    else if (c === 39) entity('&apos;');
    else if (c === 34) entity('&quot;');
    else if (c === 10) entity('&#10;');
    else if (c === 13) entity('&#13;');
    else if (c === 9) entity('&#9;');
    else out[pos++] = c;
    p = pos;
  }
  pos = p;
}

function byte(c: number): void {
  room(1);
  out[pos++] = c;
}

function spaces(indent: string, level: number): void {
  raw(indent);
  room(level * 2);
  for (let i = level * 2; i > 0; i--) out[pos++] = 32;
}

/** Writes `<name attrs`, counting the element at `d` (the root is 1) and its attributes. */
function openTag(e: XmlElement, d: number): void {
  nodes += 1 + e.attrs.length;
  if (d > depth) depth = d;
  byte(60);
  raw(e.name);
  const attrs = e.attrs;
  for (let i = 0; i < attrs.length; i++) {
    byte(32);
    raw(attrs[i]![0]);
    room(2);
    out[pos++] = 61;
    out[pos++] = 39;
    attrValue(attrs[i]![1]);
    byte(39);
  }
}

function closeTag(e: XmlElement): void {
  room(2);
  out[pos++] = 60;
  out[pos++] = 47;
  raw(e.name);
  byte(62);
}

/** Nodes still to write inline, whether each entry is an element's end tag, and each one's depth. */
const inlineTodo: XmlNode[] = [];
const inlineEnd: boolean[] = [];
const inlineDepth: number[] = [];

/** `n` written exactly as it is (mixed content: no layout added), without recursion. */
function inline(n: XmlNode, d: number): void {
  inlineTodo.push(n);
  inlineEnd.push(false);
  inlineDepth.push(d);
  while (inlineTodo.length > 0) {
    const x = inlineTodo.pop()!;
    const xd = inlineDepth.pop()!;
    if (inlineEnd.pop()) {
      closeTag(x as XmlElement);
      continue;
    }
    if (x instanceof XmlElement) {
      openTag(x, xd);
      const kids = x.children;
      if (kids.length === 0) {
        raw('/>');
        continue;
      }
      byte(62);
      inlineTodo.push(x);
      inlineEnd.push(true);
      inlineDepth.push(xd);
      for (let i = kids.length - 1; i >= 0; i--) {
        inlineTodo.push(kids[i]!);
        inlineEnd.push(false);
        inlineDepth.push(xd + 1);
      }
      continue;
    }
    // Whitespace-only text is layout to the parser: it costs no node.
    if (x.kind !== 'text' || !blank(x.text)) nodes++;
    switch (x.kind) {
      case 'text':
        text(x.text);
        break;
      case 'cdata':
        raw('<![CDATA[');
        raw(x.text);
        raw(']]>');
        break;
      case 'comment':
        raw('<!--');
        raw(x.text);
        raw('-->');
        break;
      case 'pi':
        raw('<?');
        raw(x.target);
        if (x.body) {
          byte(32);
          raw(x.body);
        }
        raw('?>');
    }
  }
}

/** Whether the parser takes `s` as layout (spaces, tabs and newlines only; a CR never reaches it). */
function blank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 9) return false;
  }
  return true;
}

/** Whether `s` is all spaces, tabs and line ends (the layout between elements), read without trim(). */
function layoutSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/** Element-only content (whitespace between elements is layout) is re-indented; real text makes it mixed. */
export function isMixed(e: XmlElement): boolean {
  const kids = e.children;
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.kind === 'cdata' || (c.kind === 'text' && !layoutSpace(c.text) && c.text.trim() !== '')) return true;
  }
  return false;
}

export function hasNonText(e: XmlElement): boolean {
  const kids = e.children;
  for (let i = 0; i < kids.length; i++) if (kids[i]!.kind !== 'text') return true;
  return false;
}

/** Open elements of the layout walk and the index of each one's next child. */
const openEls: XmlElement[] = [];
const openNext: number[] = [];

/** Writes `x` at `level` below `indent`; returns whether its children are still to be written. */
function open(x: XmlElement, indent: string, level: number): boolean {
  spaces(indent, level);
  if (isMixed(x)) {
    inline(x, level + 1);
    byte(10);
    return false;
  }
  openTag(x, level + 1);
  if (!hasNonText(x)) {
    raw('/>\n');
    return false;
  }
  raw('>\n');
  return true;
}

function layout(root: XmlElement, indent: string): void {
  if (open(root, indent, 0)) {
    openEls.push(root);
    openNext.push(0);
  }
  while (openEls.length > 0) {
    const top = openEls.length - 1;
    const e = openEls[top]!;
    const kids = e.children;
    const next = openNext[top]!;
    if (next >= kids.length) {
      spaces(indent, top);
      closeTag(e);
      byte(10);
      openEls.pop();
      openNext.pop();
      continue;
    }
    openNext[top] = next + 1;
    const c = kids[next]!;
    if (c instanceof XmlElement) {
      if (open(c, indent, top + 1)) {
        openEls.push(c);
        openNext.push(0);
      }
    } else if (c.kind !== 'text') {
      spaces(indent, top + 1);
      inline(c, top + 2);
      byte(10);
    }
  }
}

/** Runs the layout into the scratch; the stacks are empty afterwards, whatever happens. */
function fill(root: XmlElement, indent: string): void {
  pos = 0;
  lossy = false;
  wide = 0;
  nodes = 0;
  depth = 0;
  try {
    layout(root, indent);
  } catch (err) {
    // A finished layout leaves them empty (and keeps their storage for the next call).
    openEls.length = 0;
    openNext.length = 0;
    inlineTodo.length = 0;
    inlineEnd.length = 0;
    inlineDepth.length = 0;
    throw err;
  }
}

/**
 * A buffer of exactly `n` bytes of its own. Formatted definitions are kept by the ten thousand: from
 * Buffer's shared 8 KiB pool, three 2.2 KB definitions fill a pool and waste a fifth of it (~5 MB
 * for 10,000 domains), and one kept definition pins its whole pool.
 */
function exactBuffer(n: number): Buffer {
  return Buffer.allocUnsafeSlow(n);
}

function release(): void {
  if (out.length > KEEP_BYTES) out = new Uint8Array(KEEP_BYTES);
}

/** serializeXml(root, indent) encoded as UTF-8 (what Buffer.from(serializeXml(root, indent)) gives). */
export function serializeXmlBytes(root: XmlElement, indent = ''): Buffer {
  fill(root, indent);
  const bytes = exactBuffer(pos);
  bytes.set(out.subarray(0, pos));
  release();
  return bytes;
}

/**
 * serializeXml's text through the byte writer, or undefined when the tree holds a lone surrogate
 * (UTF-8 cannot carry it: the caller formats such a tree as a string).
 */
export function serializeXmlViaBytes(root: XmlElement, indent: string): string | undefined {
  fill(root, indent);
  const text = lossy ? undefined : Buffer.from(out.buffer, out.byteOffset, pos).toString('utf8');
  release();
  return text;
}

/** serializeXmlBytes(root) and formattedSize(root), from one walk. */
export function serializeXmlMeasured(root: XmlElement): { bytes: Buffer; size: FormattedSize } {
  fill(root, '');
  const size: FormattedSize = { length: pos - wide, nodes, depth };
  const bytes = exactBuffer(pos);
  bytes.set(out.subarray(0, pos));
  release();
  return { bytes, size };
}
