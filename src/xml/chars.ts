/**
 * Character-level steps of the parser, each one linear pass over its input. Rewriting many single
 * characters (CRLF, tabs, references) with String.prototype.replace costs ~1 s on 10 MiB here, so
 * those steps write UTF-16 code units into a typed array and decode it once.
 */

// Characters XML 1.0 forbids anywhere (NUL, most C0 controls, U+FFFE/U+FFFF, lone surrogates).
const BAD_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Index and code of the first character XML forbids, or undefined. */
export function findBadChar(s: string): { index: number; code: number } | undefined {
  const m = BAD_CHAR.exec(s);
  return m ? { index: m.index, code: m[0].charCodeAt(0) } : undefined;
}

export function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

// The typed array holds code units in platform order; utf-16le reads them back exactly on little-endian
// machines (all Node targets). Callers guarantee no lone surrogates (findBadChar ran first), which
// TextDecoder would otherwise turn into U+FFFD. ignoreBOM keeps a leading U+FEFF as content.
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const utf16 = new TextDecoder('utf-16le', { ignoreBOM: true });

function toText(units: Uint16Array, length: number): string {
  if (littleEndian) return utf16.decode(units.subarray(0, length));
  const parts: string[] = [];
  for (let i = 0; i < length; i += 8192) parts.push(String.fromCharCode(...units.subarray(i, Math.min(length, i + 8192))));
  return parts.join('');
}

/** XML end-of-line handling: CRLF and lone CR become LF. */
export function normalizeNewlines(s: string): string {
  if (s.indexOf('\r') < 0) return s;
  const out = new Uint16Array(s.length);
  let w = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 13) {
      out[w++] = 10;
      if (s.charCodeAt(i + 1) === 10) i++;
    } else out[w++] = c;
  }
  return toText(out, w);
}

/** Attribute-value normalisation: each literal tab or newline becomes a space (same length). */
export function tabsAndNewlinesToSpaces(s: string): string {
  if (s.indexOf('\t') < 0 && s.indexOf('\n') < 0) return s;
  const out = new Uint16Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i] = c === 9 || c === 10 ? 32 : c;
  }
  return toText(out, s.length);
}

// A Map, not an object literal: `&__proto__;` or `&constructor;` must be undefined entities, not Object's members.
const PREDEFINED = new Map([
  ['amp', 38],
  ['lt', 60],
  ['gt', 62],
  ['quot', 34],
  ['apos', 39],
]);

const HEX = /^[0-9a-fA-F]+$/;
const DEC = /^[0-9]+$/;

/** Why a reference could not be decoded, and where (offset in the raw text). */
export interface ReferenceError {
  at: number;
  kind: 'unterminated' | 'invalid-char' | 'undefined-entity';
  ref: string;
}

/**
 * Decodes `&name;` and `&#N;` references of raw text. Every reference is at least 4 characters and
 * decodes to at most 2 code units, so the output never outgrows the input.
 */
export function decodeReferences(raw: string): string | ReferenceError {
  let amp = raw.indexOf('&');
  if (amp < 0) return raw;
  const out = new Uint16Array(raw.length);
  let w = 0;
  let i = 0;
  for (; amp >= 0; amp = raw.indexOf('&', i)) {
    for (let k = i; k < amp; k++) out[w++] = raw.charCodeAt(k);
    const semi = raw.indexOf(';', amp);
    if (semi < 0) return { at: amp, kind: 'unterminated', ref: '' };
    // A reference holds no '&': `&a&b;` is an unterminated first reference, and never a scan to a far ';'.
    const next = raw.indexOf('&', amp + 1);
    if (next >= 0 && next < semi) return { at: amp, kind: 'unterminated', ref: '' };
    const ref = raw.slice(amp + 1, semi);
    if (ref.charCodeAt(0) === 35 /* # */) {
      const hex = ref.charCodeAt(1) === 120; /* x */
      const digits = ref.slice(hex ? 2 : 1);
      const cp = (hex ? HEX : DEC).test(digits) ? Number.parseInt(digits, hex ? 16 : 10) : Number.NaN;
      if (!isXmlChar(cp)) return { at: amp, kind: 'invalid-char', ref };
      if (cp > 0xffff) {
        out[w++] = 0xd800 + ((cp - 0x10000) >> 10);
        out[w++] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
      } else out[w++] = cp;
    } else {
      const v = PREDEFINED.get(ref);
      if (v === undefined) return { at: amp, kind: 'undefined-entity', ref };
      out[w++] = v;
    }
    i = semi + 1;
  }
  for (let k = i; k < raw.length; k++) out[w++] = raw.charCodeAt(k);
  return toText(out, w);
}
