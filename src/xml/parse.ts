/**
 * XML text → our tree. A small strict XML 1.0 parser of our own: well-formedness
 * is checked (names, nesting, attributes, references, characters), and it has no
 * DTD support at all, so entity expansion attacks (XXE, billion laughs) cannot
 * happen by construction — a DOCTYPE is refused outright. Malformed input is
 * reported with line:column as VIR_ERR_XML_DETAIL, like libvirt.
 *
 * Why not saxes: measured here at 50–100 µs for a 400-byte domain, which alone
 * exceeds the define budget; this parser does the same document in a few µs.
 */
import { ErrorCode, VirtError } from '../errors.js';
import { decodeReferences, findBadChar, normalizeNewlines, tabsAndNewlinesToSpaces } from './chars.js';
import { decodeXmlBytes } from './decode.js';
import { XmlElement, type XmlNode } from './tree.js';
import { keepShape } from '../shared/keep-shape.js';
import { INTERN_MAX_LENGTH, INTERN_SEED, internSlice, internStep } from './intern.js';

/** Largest document accepted, in UTF-16 code units (libvirt caps XML strings at a few MiB on the wire). */
export const MAX_XML_LENGTH = 10 * 1024 * 1024;
/** Deepest element nesting accepted: libxml2's default, which libvirt parses with (no XML_PARSE_HUGE). */
export const MAX_XML_DEPTH = 256;
/** Most attributes on one element (libvirt's elements have at most ~15). */
export const MAX_XML_ATTRIBUTES = 256;
/**
 * Most nodes in one document: elements, attributes, text runs (whitespace-only runs between nodes
 * are layout and not counted), comments, CDATA sections, PIs. Bounds memory and every later walk.
 */
export const MAX_XML_NODES = 100_000;

export interface ParseOptions {
  /** Name used in error messages, e.g. "domain definition" or a file name. */
  source?: string;
  maxLength?: number;
  /** Limits below the defaults (never above: the defaults are what every tree walk is sized for). */
  maxDepth?: number;
  maxAttributes?: number;
  maxNodes?: number;
  /**
   * Leave out the whitespace between the children of an element whose content is element-only (no
   * text beyond layout, no CDATA). That whitespace is layout, which formatting replaces with its own
   * indentation, so the formatted document is the same; the tree is smaller and its walks shorter.
   * Mixed content, and an element holding nothing but whitespace, keep their text as written.
   */
  dropLayout?: boolean;
}

const NAME_START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\uD800-\\uDBFF\\uDC00-\\uDFFF';
const NAME_CHAR = `${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const NAME = new RegExp(`[${NAME_START}][${NAME_CHAR}]*`, 'y');

/**
 * Where `name` ends when it is spelled at `at` and the name there ends with it (an ASCII non-name
 * character follows); -1 otherwise, and the caller reads the name in full. An end tag is almost
 * always its element's name: checked in place, without reading a name and making a string.
 */
function nameEndIfAt(s: string, at: number, name: string): number {
  const len = name.length;
  for (let k = 0; k < len; k++) if (s.charCodeAt(at + k) !== name.charCodeAt(k)) return -1;
  const c = s.charCodeAt(at + len);
  return c < 0x80 && !isAsciiNameChar(c) ? at + len : -1;
}

/** a.slice(from, to) for the few entries of one element (a builtin call costs more than the copy). */
function copyRange<T>(a: readonly T[], from: number, to: number): T[] {
  const out = new Array<T>(to - from);
  for (let i = from; i < to; i++) out[i - from] = a[i]!;
  return out;
}

/** Where the run of spaces, tabs and newlines at `i` ends (runs are short: a loop beats a regex call). */
function spaceEnd(s: string, i: number): number {
  for (let c = s.charCodeAt(i); c === 32 || c === 10 || c === 9; c = s.charCodeAt(++i));
  return i;
}

/** ASCII letters, '_' and ':' (NAME_START within ASCII). */
function isAsciiNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
}
/** ASCII letters, digits, '_', ':', '-' and '.' (NAME_CHAR within ASCII). */
function isAsciiNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 58) || c === 95 || c === 45 || c === 46;
}

/** Placeholders, replaced before the tree is returned (never seen outside the parser). */
const NO_ATTRS: [string, string][] = [];
const NO_CHILDREN_YET: XmlNode[] = [];
/** Stands in the children scratch for a run of layout whitespace while its element is open (dropLayout). */
const LAYOUT: XmlNode = { kind: 'text', text: '' };

/** Attribute values up to this length are checked in one JS pass; longer ones by native searches. */
const SHORT_VALUE = 64;

/** A name as quoted in an error message: hostile input may hold a name megabytes long. */
function short(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

interface Limits {
  depth: number;
  attributes: number;
  nodes: number;
}

const DEFAULT_LIMITS: Limits = { depth: MAX_XML_DEPTH, attributes: MAX_XML_ATTRIBUTES, nodes: MAX_XML_NODES };

/**
 * Every step moves `pos` forward and looks only at the bytes it consumes (no scan ahead past the
 * current token), so parsing is linear in the document whatever its shape.
 */
class Parser {
  readonly s: string;
  readonly source: string;
  readonly limits: Limits;
  pos = 0;
  /** Nodes created so far (checked against limits.nodes). */
  nodes = 0;
  /**
   * Scratch: the attributes of the start tag being read, and the children of every open element,
   * each copied into an array of its exact size once complete instead of grown one push at a time
   * (a pushed-to empty array reserves 16 slots). Per parse, not shared: a long-lived array would
   * pay a write barrier for every young node stored in it.
   */
  readonly attrScratch: [string, string][] = [];
  readonly kidScratch: XmlNode[] = [];
  /** With dropLayout: where each LAYOUT entry of kidScratch starts and ends in the text. */
  readonly layoutStart: number[] = [];
  readonly layoutEnd: number[] = [];
  readonly dropLayout: boolean;

  constructor(s: string, source: string, limits: Limits = DEFAULT_LIMITS, dropLayout = false) {
    this.s = s;
    this.source = source;
    this.limits = limits;
    this.dropLayout = dropLayout;
  }

  /**
   * The children kids[base, top) of an element that closes, with dropLayout: without the layout
   * entries when the content is element-only, else with each one made a text node.
   */
  closeChildren(kids: XmlNode[], base: number, top: number): XmlNode[] {
    let kept = 0;
    let structural = false;
    let mixed = false;
    for (let i = base; i < top; i++) {
      const k = kids[i]!;
      if (k === LAYOUT) continue;
      kept++;
      if (k.kind === 'text' || k.kind === 'cdata') mixed = true;
      else structural = true;
    }
    if (kept === top - base) return copyRange(kids, base, top);
    if (structural && !mixed) {
      const out: XmlNode[] = new Array(kept);
      let j = 0;
      for (let i = base; i < top; i++) if (kids[i] !== LAYOUT) out[j++] = kids[i]!;
      return out;
    }
    const out = kids.slice(base, top);
    for (let i = 0; i < out.length; i++) {
      if (out[i] === LAYOUT) out[i] = { kind: 'text', text: this.s.slice(this.layoutStart[base + i]!, this.layoutEnd[base + i]!) };
    }
    return out;
  }

  /** Counts `n` new nodes; past the limit the document is refused. */
  count(n = 1): void {
    this.nodes += n;
    if (this.nodes > this.limits.nodes) this.fail(`more than ${this.limits.nodes} nodes (elements, attributes, text, comments, CDATA, PIs) in one document, the limit`);
  }

  fail(message: string, at = this.pos): never {
    let line = 1;
    let last = -1;
    for (let i = this.s.indexOf('\n'); i >= 0 && i < at; i = this.s.indexOf('\n', i + 1)) {
      line++;
      last = i;
    }
    throw new VirtError(ErrorCode.XML_DETAIL, `malformed XML in ${this.source} at line ${line}, column ${at - last}: ${message}`);
  }

  /** Moves past spaces, tabs and newlines; whether there were any. */
  skipSpace(): boolean {
    const start = this.pos;
    this.pos = spaceEnd(this.s, start);
    return this.pos > start;
  }

  name(what: string): string {
    const s = this.s;
    const start = this.pos;
    // Names in domain XML are ASCII: read them without a regex run; anything else goes to NAME.
    let i = start;
    let c = s.charCodeAt(i);
    if (isAsciiNameStart(c)) {
      let h = internStep(INTERN_SEED, c);
      for (c = s.charCodeAt(++i); isAsciiNameChar(c); c = s.charCodeAt(++i)) h = internStep(h, c);
      if (c < 0x80 || Number.isNaN(c)) {
        this.pos = i;
        return i - start <= INTERN_MAX_LENGTH ? internSlice(s, start, i, h) : s.slice(start, i);
      }
    }
    // test() + slice(): the same token as exec() without a match array per name.
    NAME.lastIndex = start;
    if (!NAME.test(s)) this.fail(`expected ${what} name`);
    this.pos = NAME.lastIndex;
    return s.slice(start, this.pos);
  }

  expect(str: string, what: string): void {
    if (!this.s.startsWith(str, this.pos)) this.fail(`expected ${what}`);
    this.pos += str.length;
  }

  /**
   * Text between `start` and `end` with its references decoded (each checked). `attribute` applies
   * attribute-value normalisation first: literal tabs and newlines become spaces, while character
   * references to them keep their whitespace.
   */
  decode(start: number, end: number, attribute = false): string {
    let raw = this.s.slice(start, end);
    if (attribute) raw = tabsAndNewlinesToSpaces(raw);
    const out = decodeReferences(raw);
    if (typeof out === 'string') return out;
    const at = start + out.at;
    if (out.kind === 'unterminated') this.fail('unterminated entity or character reference', at);
    if (out.kind === 'invalid-char') this.fail(`invalid character reference '&${short(out.ref)};'`, at);
    this.fail(`undefined entity '&${short(out.ref)};'`, at);
  }

  /** `<!-- ... -->`, with pos at `<!--`. */
  comment(): XmlNode {
    const end = this.s.indexOf('-->', this.pos + 4);
    if (end < 0) this.fail('unterminated comment');
    const text = this.s.slice(this.pos + 4, end);
    if (text.includes('--') || text.endsWith('-')) this.fail("'--' is not allowed inside a comment");
    this.pos = end + 3;
    return { kind: 'comment', text };
  }

  /** `<?target body?>`, with pos at `<?`. */
  pi(): XmlNode {
    this.pos += 2;
    const target = this.name('processing instruction');
    if (target.toLowerCase() === 'xml') this.fail('XML declaration allowed only at the start of the document');
    const end = this.s.indexOf('?>', this.pos);
    if (end < 0) this.fail('unterminated processing instruction');
    const body = this.s.slice(this.pos, end).replace(/^[ \t\n]+/, '');
    this.pos = end + 2;
    return { kind: 'pi', target, body };
  }

  /** Comments, PIs and whitespace around the root element. */
  misc(into: XmlNode[] | undefined): void {
    for (;;) {
      this.skipSpace();
      if (this.s.startsWith('<!--', this.pos)) {
        const c = this.comment();
        into?.push(c);
      } else if (this.s.startsWith('<?', this.pos)) {
        const p = this.pi();
        into?.push(p);
      } else return;
    }
  }

  /** The attributes of the last start tag read, in an array of their own. */
  tagAttrs: [string, string][] = NO_ATTRS;

  /** Reads the attributes of start tag <elName> into tagAttrs; true when the tag was `/>` (no content). */
  attributes(elName: string): boolean {
    const attrs = this.attrScratch;
    let n = 0;
    // Duplicate check: a linear scan while attributes are few (the usual case), a Set once there are many.
    let names: Set<string> | undefined;
    for (;;) {
      const spaced = this.skipSpace();
      const s = this.s;
      const c = s.charCodeAt(this.pos);
      if (c === 62 || c === 47) {
        if (c === 47 && s.charCodeAt(this.pos + 1) !== 62) this.fail("expected '/>'");
        this.pos += c === 62 ? 1 : 2;
        this.tagAttrs = n > 0 ? copyRange(attrs, 0, n) : [];
        return c === 47;
      }
      if (Number.isNaN(c)) this.fail(`unterminated start tag <${short(elName)}>`);
      if (!spaced) this.fail('expected whitespace between attributes');
      const at = this.pos;
      const name = this.name('attribute');
      this.skipSpace();
      if (s.charCodeAt(this.pos) !== 61) this.fail(`expected '=' after attribute ${name}`);
      this.pos++;
      this.skipSpace();
      const q = s.charCodeAt(this.pos);
      if (q !== 34 && q !== 39) this.fail(`attribute ${short(name)} value must be quoted`);
      // Attribute-value normalisation: literal tab/newline become spaces; references were already decoded.
      // A value with none of them (nearly all) is the raw text itself.
      let plain = true;
      let value: string;
      const from = this.pos + 1;
      // A short value (nearly all) is read in one pass that also finds its closing quote.
      let end = from;
      let h = INTERN_SEED;
      for (let ch = s.charCodeAt(end); ch !== q && end - from <= SHORT_VALUE; ch = s.charCodeAt(++end)) {
        if (ch === 60) this.fail(`'<' is not allowed in the value of attribute ${short(name)}`, end);
        if (ch === 38 || ch === 10 || ch === 9) plain = false;
        else if (Number.isNaN(ch)) this.fail(`unterminated value of attribute ${short(name)}`);
        h = internStep(h, ch);
      }
      if (s.charCodeAt(end) === q) {
        value = !plain ? this.decode(from, end, true) : end > from && end - from <= INTERN_MAX_LENGTH ? internSlice(s, from, end, h) : s.slice(from, end);
      } else {
        end = s.indexOf(q === 34 ? '"' : "'", end);
        if (end < 0) this.fail(`unterminated value of attribute ${short(name)}`);
        const raw = this.s.slice(from, end);
        const lt = raw.indexOf('<');
        if (lt >= 0) this.fail(`'<' is not allowed in the value of attribute ${short(name)}`, from + lt);
        plain = raw.indexOf('&') < 0 && raw.indexOf('\n') < 0 && raw.indexOf('\t') < 0;
        value = plain ? raw : this.decode(from, end, true);
      }
      if (names) {
        if (names.has(name)) this.fail(`duplicate attribute ${short(name)}`, at);
        names.add(name);
      } else {
        for (let i = 0; i < n; i++) if (attrs[i]![0] === name) this.fail(`duplicate attribute ${short(name)}`, at);
        if (n >= 16) {
          names = new Set([name]);
          for (let i = 0; i < n; i++) names.add(attrs[i]![0]);
        }
      }
      this.count();
      if (n >= this.limits.attributes) this.fail(`element <${short(elName)}> has more than ${this.limits.attributes} attributes, the limit`, at);
      attrs[n++] = [name, value];
      this.pos = end + 1;
    }
  }

  element(): XmlElement {
    this.pos++; // '<'
    const rootName = this.name('element');
    this.count();
    if (this.attributes(rootName)) return new XmlElement(rootName, this.tagAttrs, []);
    // Each open element's children are set when it closes (an array of their exact size).
    const root = new XmlElement(rootName, this.tagAttrs, NO_CHILDREN_YET);
    const stack: XmlElement[] = [root];
    // Children of the open elements: cur's are kids[bases[last], top).
    const kids = this.kidScratch;
    const bases: number[] = [0];
    let top = 0;
    let cur = root;
    const s = this.s;
    for (;;) {
      // The next markup: right here, after a run of layout (no search needed), or after text.
      const spaced = spaceEnd(s, this.pos);
      const lt = s.charCodeAt(spaced) === 60 ? spaced : s.indexOf('<', spaced);
      if (lt < 0) this.fail(`unterminated element <${short(cur.name)}>`, s.length);
      if (lt > this.pos) {
        // Whitespace between nodes is layout and costs nothing: formatting a definition adds it
        // (indentation), and a definition virtkit formatted must parse again under the same limit.
        // There is at most one such run per counted node, so memory stays bounded. Such a run holds
        // no ']]>' and no reference: it is the text as it is.
        if (spaced < lt) {
          const raw = s.slice(this.pos, lt);
          // Only this text run is searched for ']]>' (searching the rest of the document made parsing quadratic).
          const cdataEnd = raw.indexOf(']]>');
          if (cdataEnd >= 0) this.fail("']]>' is not allowed in text", this.pos + cdataEnd);
          this.count();
          kids[top++] = { kind: 'text', text: raw.indexOf('&') < 0 ? raw : this.decode(this.pos, lt) };
        } else if (this.dropLayout) {
          this.layoutStart[top] = this.pos;
          this.layoutEnd[top] = lt;
          kids[top++] = LAYOUT;
        } else kids[top++] = { kind: 'text', text: s.slice(this.pos, lt) };
      }
      this.pos = lt;
      const next = s.charCodeAt(lt + 1);
      if (next === 47) {
        this.pos += 2;
        const at = this.pos;
        const after = nameEndIfAt(s, at, cur.name);
        if (after >= 0) this.pos = after;
        else {
          const name = this.name('end tag');
          if (name !== cur.name) this.fail(`end tag </${short(name)}> does not match <${short(cur.name)}>`, at);
        }
        this.skipSpace();
        if (s.charCodeAt(this.pos) !== 62) this.fail("expected '>' closing the end tag");
        this.pos++;
        const base = bases.pop()!;
        cur.children = top === base ? [] : this.dropLayout ? this.closeChildren(kids, base, top) : copyRange(kids, base, top);
        top = base;
        stack.pop();
        if (stack.length === 0) return root;
        cur = stack[stack.length - 1]!;
      } else if (next === 33) {
        if (s.startsWith('<!--', lt)) kids[top++] = this.comment();
        else if (s.startsWith('<![CDATA[', lt)) {
          const end = s.indexOf(']]>', lt + 9);
          if (end < 0) this.fail('unterminated CDATA section');
          kids[top++] = { kind: 'cdata', text: s.slice(lt + 9, end) };
          this.pos = end + 3;
        } else if (s.startsWith('<!DOCTYPE', lt)) this.fail('DOCTYPE and entity declarations are not allowed');
        else this.fail('unexpected markup declaration');
        this.count();
      } else if (next === 63) {
        kids[top++] = this.pi();
        this.count();
      } else {
        if (stack.length >= this.limits.depth) this.fail(`elements nested more than ${this.limits.depth} deep, the limit`, lt);
        this.pos = lt + 1;
        const name = this.name('element');
        this.count();
        const closed = this.attributes(name);
        const child = new XmlElement(name, this.tagAttrs, closed ? [] : NO_CHILDREN_YET);
        kids[top++] = child;
        if (!closed) {
          stack.push(child);
          bases.push(top);
          cur = child;
        }
      }
    }
  }

  document(): XmlElement {
    if (this.s.charCodeAt(0) === 0xfeff) this.pos = 1;
    if (this.s.startsWith('<?xml', this.pos) && /[ \t\n?]/.test(this.s[this.pos + 5] ?? '')) {
      const end = this.s.indexOf('?>', this.pos);
      if (end < 0) this.fail('unterminated XML declaration');
      if (!/^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(['"])1\.[0-9]+\1/.test(this.s.slice(this.pos, end))) this.fail('XML declaration without a valid version');
      this.pos = end + 2;
    }
    this.misc(undefined);
    if (this.s.startsWith('<!DOCTYPE', this.pos)) this.fail('DOCTYPE and entity declarations are not allowed');
    if (this.s[this.pos] !== '<') this.fail(this.pos >= this.s.length ? 'no root element' : 'content before the root element');
    const root = this.element();
    this.misc(undefined);
    if (this.s.startsWith('<!DOCTYPE', this.pos)) this.fail('DOCTYPE and entity declarations are not allowed');
    if (this.pos < this.s.length) this.fail('content after the root element');
    return root;
  }
}
keepShape(new Parser('', 'shape exemplar'));

/** Parses one XML document (text, or bytes that must be UTF-8) and returns its root element. */
export function parseXml(input: string | Uint8Array, options: ParseOptions = {}): XmlElement {
  const source = options.source ?? 'XML document';
  const max = Math.min(options.maxLength ?? MAX_XML_LENGTH, MAX_XML_LENGTH);
  const limits: Limits = {
    depth: Math.min(options.maxDepth ?? MAX_XML_DEPTH, MAX_XML_DEPTH),
    attributes: Math.min(options.maxAttributes ?? MAX_XML_ATTRIBUTES, MAX_XML_ATTRIBUTES),
    nodes: Math.min(options.maxNodes ?? MAX_XML_NODES, MAX_XML_NODES),
  };
  return parseWithin(input, source, max, limits, options.dropLayout === true);
}

/**
 * Parses XML that virtkit wrote itself (stored definitions, status files). The definition inside
 * was held to the input limits when it was accepted (conf checks its formatted size); the wrapper
 * around it (`<domstatus>`, pending unplugs) gets twice the room, so stored state always reads back.
 */
export function parseStoredXml(input: string | Uint8Array, source: string): XmlElement {
  return parseWithin(input, source, 2 * MAX_XML_LENGTH, { depth: 2 * MAX_XML_DEPTH, attributes: MAX_XML_ATTRIBUTES, nodes: 2 * MAX_XML_NODES });
}

/**
 * `text` as one sequential string. Text built by concatenation (a template literal, `head + name +
 * tail`) is a rope, and V8 keeps answering every charCodeAt and slice of a flattened rope through
 * it; the parser reads each character several times. Lone surrogates would not survive the UTF-8
 * round trip, but a document holding one was refused before.
 */
function flat(text: string): string {
  return text.length < 64 ? text : Buffer.from(text, 'utf8').toString('utf8');
}

/** Whether a document is empty or only whitespace (as trim() sees it), without copying it as trim() does. */
function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) continue;
    // Beyond ASCII, trim() also takes Unicode spaces (rare here: the slow look is fine).
    return c < 0x80 ? false : text.trim() === '';
  }
  return true;
}

function parseWithin(input: string | Uint8Array, source: string, max: number, limits: Limits, dropLayout = false): XmlElement {
  const text = input instanceof Uint8Array ? decodeXmlBytes(input, source, max) : input;
  if (typeof text !== 'string') throw new VirtError(ErrorCode.INVALID_ARG, `${source}: XML must be a string`);
  if (text.length > max) {
    throw new VirtError(ErrorCode.XML_ERROR, `${source} is too large: ${text.length} characters, the limit is ${max}`);
  }
  if (isBlank(text)) throw new VirtError(ErrorCode.XML_DETAIL, `malformed XML in ${source}: document is empty`);
  // Forbidden characters are looked for before newline normalisation, which relies on their absence.
  const bad = findBadChar(text);
  const s = flat(normalizeNewlines(text));
  const p = new Parser(s, source, limits, dropLayout);
  if (bad) {
    // Report it where it sits in the normalised text: each CRLF before it became one character.
    let at = bad.index;
    for (let i = text.indexOf('\r\n'); i >= 0 && i < bad.index; i = text.indexOf('\r\n', i + 2)) at--;
    p.fail(`character U+${bad.code.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, at);
  }
  return p.document();
}
