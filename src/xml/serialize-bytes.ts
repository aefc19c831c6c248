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
/** Bytes written by the last fill(). The writers below keep their position in a local and return it. */
let pos = 0;
/** A lone surrogate was written (as U+FFFD, as Buffer.from does): the bytes do not decode to the text. */
let lossy = false;
/** Bytes written beyond one per UTF-16 code unit of the text (so the text's length is pos - wide). */
let wide = 0;
/** Nodes the parser would count reading the text back, and the deepest element (formattedSize's figures). */
let nodes = 0;
let depth = 0;

/**
 * The scratch, with room for `n` more bytes after `p` (grown, and so replaced, when short). Each
 * writer asks once for the most its piece can take (3 bytes per UTF-16 unit of raw text, 5 escaped
 * in text, 6 in an attribute value), then writes without checks.
 */
function ensure(p: number, n: number): Uint8Array {
  if (p + n <= out.length) return out;
  let size = out.length * 2;
  while (size < p + n) size *= 2;
  const next = new Uint8Array(size);
  next.set(out.subarray(0, p));
  out = next;
  return next;
}

/** Index of the last code unit putWide used (the low surrogate of a pair, or its own). */
let wideEnd = 0;

/** Writes code unit `c` at `i` of `s` (a non-ASCII one) at `p`; returns the next position. */
function putWide(o: Uint8Array, p: number, s: string, i: number, c: number): number {
  wideEnd = i;
  if (c < 0x800) {
    o[p++] = 0xc0 | (c >> 6);
    o[p++] = 0x80 | (c & 0x3f);
    wide += 1;
    return p;
  }
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
    const d = s.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      o[p++] = 0xf0 | (cp >> 18);
      o[p++] = 0x80 | ((cp >> 12) & 0x3f);
      o[p++] = 0x80 | ((cp >> 6) & 0x3f);
      o[p++] = 0x80 | (cp & 0x3f);
      wide += 2;
      wideEnd = i + 1;
      return p;
    }
  }
  if (c >= 0xd800 && c <= 0xdfff) {
    lossy = true;
    c = 0xfffd;
  }
  o[p++] = 0xe0 | (c >> 12);
  o[p++] = 0x80 | ((c >> 6) & 0x3f);
  o[p++] = 0x80 | (c & 0x3f);
  wide += 2;
  return p;
}

/** Writes `s` as it is (room: 3 bytes per unit). */
function putRaw(o: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) o[p++] = c;
    else {
      p = putWide(o, p, s, i, c);
      i = wideEnd;
    }
  }
  return p;
}

/** Writes an ASCII entity such as `&amp;`. */
function putEntity(o: Uint8Array, p: number, e: string): number {
  for (let i = 0; i < e.length; i++) o[p++] = e.charCodeAt(i);
  return p;
}

/** Text content, & < > escaped as escapeText does (room: 5 bytes per unit). */
function putText(o: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 && c !== 38 && c !== 60 && c !== 62) {
      o[p++] = c;
      continue;
    }
    if (c === 38) p = putEntity(o, p, '&amp;');
    else if (c === 60) p = putEntity(o, p, '&lt;');
    else if (c === 62) p = putEntity(o, p, '&gt;');
    else {
      p = putWide(o, p, s, i, c);
      i = wideEnd;
    }
  }
  return p;
}

/** An attribute value in single quotes, escaped as escapeAttr does (room: 6 bytes per unit). */
function putAttrValue(o: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80 && c > 39 && c !== 60 && c !== 62) {
      o[p++] = c;
      continue;
    }
    if (c >= 0x80) {
      p = putWide(o, p, s, i, c);
      i = wideEnd;
    } else if (c === 38) p = putEntity(o, p, '&amp;');
    else if (c === 60) p = putEntity(o, p, '&lt;');
    else if (c === 62) p = putEntity(o, p, '&gt;');
    else if (c === 39) p = putEntity(o, p, '&apos;');
    else if (c === 34) p = putEntity(o, p, '&quot;');
    else if (c === 10) p = putEntity(o, p, '&#10;');
    else if (c === 13) p = putEntity(o, p, '&#13;');
    else if (c === 9) p = putEntity(o, p, '&#9;');
    else o[p++] = c;
  }
  return p;
}

/** `indent` then `level` times two spaces. */
function putSpaces(p: number, indent: string, level: number): number {
  const o = ensure(p, 3 * indent.length + 2 * level);
  p = putRaw(o, p, indent);
  for (let i = level * 2; i > 0; i--) o[p++] = 32;
  return p;
}

/** Writes `<name attrs`, counting the element at `d` (the root is 1) and its attributes. */
function openTag(e: XmlElement, d: number, p: number): number {
  const attrs = e.attrs;
  nodes += 1 + attrs.length;
  if (d > depth) depth = d;
  const name = e.name;
  let o = ensure(p, 1 + 3 * name.length);
  o[p++] = 60;
  p = putRaw(o, p, name);
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]!;
    const k = a[0];
    const v = a[1];
    o = ensure(p, 4 + 3 * k.length + 6 * v.length);
    o[p++] = 32;
    p = putRaw(o, p, k);
    o[p++] = 61;
    o[p++] = 39;
    p = putAttrValue(o, p, v);
    o[p++] = 39;
  }
  return p;
}

/** `</name>`, and a newline after it when `newline`. */
function closeTag(e: XmlElement, p: number, newline: boolean): number {
  const o = ensure(p, 4 + 3 * e.name.length);
  o[p++] = 60;
  o[p++] = 47;
  p = putRaw(o, p, e.name);
  o[p++] = 62;
  if (newline) o[p++] = 10;
  return p;
}

/** Writes an ASCII piece of markup (`/>`, `<![CDATA[`, ...). */
function putMarkup(p: number, m: string): number {
  return putEntity(ensure(p, m.length), p, m);
}

/** Nodes still to write inline, whether each entry is an element's end tag, and each one's depth. */
const inlineTodo: XmlNode[] = [];
const inlineEnd: boolean[] = [];
const inlineDepth: number[] = [];

/** `n` written exactly as it is (mixed content: no layout added), without recursion. */
function inline(n: XmlNode, d: number, p: number): number {
  inlineTodo.push(n);
  inlineEnd.push(false);
  inlineDepth.push(d);
  while (inlineTodo.length > 0) {
    const x = inlineTodo.pop()!;
    const xd = inlineDepth.pop()!;
    if (inlineEnd.pop()) {
      p = closeTag(x as XmlElement, p, false);
      continue;
    }
    if (x instanceof XmlElement) {
      p = openTag(x, xd, p);
      const kids = x.children;
      if (kids.length === 0) {
        p = putMarkup(p, '/>');
        continue;
      }
      p = putMarkup(p, '>');
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
        p = putText(ensure(p, 5 * x.text.length), p, x.text);
        break;
      case 'cdata':
        p = putMarkup(p, '<![CDATA[');
        p = putRaw(ensure(p, 3 * x.text.length), p, x.text);
        p = putMarkup(p, ']]>');
        break;
      case 'comment':
        p = putMarkup(p, '<!--');
        p = putRaw(ensure(p, 3 * x.text.length), p, x.text);
        p = putMarkup(p, '-->');
        break;
      case 'pi':
        p = putMarkup(p, '<?');
        p = putRaw(ensure(p, 3 * x.target.length), p, x.target);
        if (x.body) {
          p = putMarkup(p, ' ');
          p = putRaw(ensure(p, 3 * x.body.length), p, x.body);
        }
        p = putMarkup(p, '?>');
    }
  }
  return p;
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

/** Text that is more than layout: it makes its element's content mixed. */
function realText(s: string): boolean {
  // Any printable ASCII character decides it; only text of spaces and non-ASCII needs trim()'s view.
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 32 && c < 0x80) return true;
  }
  return !layoutSpace(s) && s.trim() !== '';
}

/** Element-only content (whitespace between elements is layout) is re-indented; real text makes it mixed. */
export function isMixed(e: XmlElement): boolean {
  const kids = e.children;
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.kind === 'cdata' || (c.kind === 'text' && realText(c.text))) return true;
  }
  return false;
}

export function hasNonText(e: XmlElement): boolean {
  const kids = e.children;
  for (let i = 0; i < kids.length; i++) if (kids[i]!.kind !== 'text') return true;
  return false;
}

/** isMixed and hasNonText in one pass: MIXED, CHILDREN (some non-text, nothing mixed) or EMPTY. */
const EMPTY = 0;
const MIXED = 1;
const CHILDREN = 2;
function contentOf(e: XmlElement): number {
  const kids = e.children;
  let nonText = false;
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.kind === 'text') {
      if (realText(c.text)) return MIXED;
    } else if (c.kind === 'cdata') return MIXED;
    else nonText = true;
  }
  return nonText ? CHILDREN : EMPTY;
}

/** Open elements of the layout walk and the index of each one's next child. */
const openEls: XmlElement[] = [];
const openNext: number[] = [];

/** Set by open(): the element's children are still to be written. */
let descend = false;

/** Writes `x` at `level` below `indent`; returns the next position (and sets `descend`). */
function open(x: XmlElement, indent: string, level: number, p: number): number {
  p = putSpaces(p, indent, level);
  descend = false;
  const content = contentOf(x);
  if (content === MIXED) {
    const kids = x.children;
    const only = kids.length === 1 ? kids[0]! : undefined;
    if (only !== undefined && only.kind === 'text') {
      // One run of text (`<name>vm1</name>`, the usual mixed element): what inline() writes, directly.
      p = openTag(x, level + 1, p);
      nodes++;
      const o = ensure(p, 1 + 5 * only.text.length);
      o[p++] = 62;
      p = putText(o, p, only.text);
      return closeTag(x, p, true);
    }
    p = inline(x, level + 1, p);
    return putMarkup(p, '\n');
  }
  p = openTag(x, level + 1, p);
  if (content === EMPTY) return putMarkup(p, '/>\n');
  descend = true;
  return putMarkup(p, '>\n');
}

function layout(root: XmlElement, indent: string): number {
  let p = open(root, indent, 0, 0);
  if (descend) {
    openEls.push(root);
    openNext.push(0);
  }
  while (openEls.length > 0) {
    const top = openEls.length - 1;
    const e = openEls[top]!;
    const kids = e.children;
    const next = openNext[top]!;
    if (next >= kids.length) {
      p = putSpaces(p, indent, top);
      p = closeTag(e, p, true);
      openEls.pop();
      openNext.pop();
      continue;
    }
    openNext[top] = next + 1;
    const c = kids[next]!;
    if (c instanceof XmlElement) {
      p = open(c, indent, top + 1, p);
      if (descend) {
        openEls.push(c);
        openNext.push(0);
      }
    } else if (c.kind !== 'text') {
      p = putSpaces(p, indent, top + 1);
      p = inline(c, top + 2, p);
      p = putMarkup(p, '\n');
    }
  }
  return p;
}

/** Runs the layout into the scratch; the stacks are empty afterwards, whatever happens. */
function fill(root: XmlElement, indent: string): void {
  pos = 0;
  lossy = false;
  wide = 0;
  nodes = 0;
  depth = 0;
  try {
    pos = layout(root, indent);
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
 * `n` bytes for a formatted definition, carved from a 16 KiB slab shared with the next few
 * definitions (a larger one gets a buffer of its own). Definitions are kept by the ten thousand:
 * from Buffer's shared 8 KiB pool three 2.2 KB definitions fill a pool and waste a fifth of it,
 * while a buffer of its own per definition costs an ArrayBuffer with its backing store, which
 * V8 allocates and, when it dies, sweeps one by one at each young-generation GC (a third of that
 * GC's time in a define loop). A slab wastes at most its last, too short, piece; a kept definition
 * keeps its slab (16 KiB) alive.
 */
const SLAB_BYTES = 16 * 1024;
let slab: ArrayBuffer = new ArrayBuffer(0);
let slabUsed = 0;
function storedBuffer(n: number): Buffer {
  if (n > SLAB_BYTES / 4) return Buffer.allocUnsafeSlow(n);
  if (slabUsed + n > slab.byteLength) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES).buffer;
    slabUsed = 0;
  }
  const bytes = Buffer.from(slab, slabUsed, n);
  slabUsed += n;
  return bytes;
}

function release(): void {
  if (out.length > KEEP_BYTES) out = new Uint8Array(KEEP_BYTES);
}

/** serializeXml(root, indent) encoded as UTF-8 (what Buffer.from(serializeXml(root, indent)) gives). */
export function serializeXmlBytes(root: XmlElement, indent = ''): Buffer {
  fill(root, indent);
  const bytes = storedBuffer(pos);
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
  const bytes = storedBuffer(pos);
  bytes.set(out.subarray(0, pos));
  release();
  return { bytes, size };
}
