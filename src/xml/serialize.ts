/**
 * Our tree → text, in libvirt's style: two-space indent, single-quoted
 * attributes, empty elements self-closed, text-only elements on one line.
 */
import { hasNonText, isMixed, serializeXmlViaBytes } from './serialize-bytes.js';
import type { XmlElement, XmlNode } from './tree.js';

const textEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const attrEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  "'": '&apos;',
  '"': '&quot;',
  '\n': '&#10;',
  '\r': '&#13;',
  '\t': '&#9;',
};

export function escapeText(s: string): string {
  return /[&<>]/.test(s) ? s.replace(/[&<>]/g, (c) => textEscapes[c]!) : s;
}

export function escapeAttr(s: string): string {
  return /[&<>'"\n\r\t]/.test(s) ? s.replace(/[&<>'"\n\r\t]/g, (c) => attrEscapes[c]!) : s;
}

function openTag(e: XmlElement): string {
  let s = '<' + e.name;
  const attrs = e.attrs;
  for (let i = 0; i < attrs.length; i++) s += ' ' + attrs[i]![0] + "='" + escapeAttr(attrs[i]![1]) + "'";
  return s;
}

/** Appends `n` written exactly as it is (mixed content: no layout added). Iterative: any depth, linear. */
function inline(n: XmlNode, out: string[]): void {
  const todo: (XmlNode | string)[] = [n];
  while (todo.length > 0) {
    const x = todo.pop()!;
    if (typeof x === 'string') {
      out.push(x);
      continue;
    }
    switch (x.kind) {
      case 'text':
        out.push(escapeText(x.text));
        break;
      case 'cdata':
        out.push('<![CDATA[' + x.text + ']]>');
        break;
      case 'comment':
        out.push('<!--' + x.text + '-->');
        break;
      case 'pi':
        out.push('<?' + x.target + (x.body ? ' ' + x.body : '') + '?>');
        break;
      case 'element': {
        const kids = x.children;
        if (kids.length === 0) {
          out.push(openTag(x) + '/>');
          break;
        }
        out.push(openTag(x) + '>');
        todo.push('</' + x.name + '>');
        for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]!);
      }
    }
  }
}

interface Open {
  e: XmlElement;
  indent: string;
  /** The children's indent, made once per element rather than once per child. */
  inner: string;
  next: number;
}

/**
 * Appends `e` in libvirt's layout to `out`: an explicit stack instead of recursion, so a deep tree
 * cannot overflow the call stack, and each node is visited once.
 */
function element(e: XmlElement, indent: string, out: string[]): void {
  const stack: Open[] = [];
  const open = (x: XmlElement, at: string): void => {
    if (isMixed(x)) {
      out.push(at);
      inline(x, out);
      out.push('\n');
    } else if (!hasNonText(x)) out.push(at + openTag(x) + '/>\n');
    else {
      out.push(at + openTag(x) + '>\n');
      stack.push({ e: x, indent: at, inner: at + '  ', next: 0 });
    }
  };
  open(e, indent);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const kids = top.e.children;
    if (top.next >= kids.length) {
      out.push(top.indent + '</' + top.e.name + '>\n');
      stack.pop();
      continue;
    }
    const c = kids[top.next++]!;
    const inner = top.inner;
    if (c.kind === 'element') open(c, inner);
    else if (c.kind !== 'text') {
      out.push(inner);
      inline(c, out);
      out.push('\n');
    }
  }
}

/**
 * Serializes an element (and its subtree) in libvirt's layout, ending with a newline.
 * The text is written as UTF-8 bytes and decoded once (serialize-bytes.ts); only a tree holding a
 * lone surrogate, which UTF-8 cannot carry, is built here from string pieces, joined once at the
 * end so the result is a flat string rather than a rope.
 */
export function serializeXml(root: XmlElement, indent = ''): string {
  return serializeXmlViaBytes(root, indent) ?? serializeXmlPieces(root, indent);
}

/** serializeXml built from string pieces (any tree, lone surrogates included). */
export function serializeXmlPieces(root: XmlElement, indent = ''): string {
  const out: string[] = [];
  element(root, indent, out);
  return out.join('');
}

/** What serializeXml would produce, measured without building it. */
export interface FormattedSize {
  /** serializeXml(root).length */
  length: number;
  /** Nodes the parser counts when reading that text back (whitespace-only runs are free). */
  nodes: number;
  /** Deepest element nesting (the root is 1). */
  depth: number;
}

function escapedTextLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 38) n += 4; // &amp;
    else if (c === 60 || c === 62) n += 3; // &lt; &gt;
  }
  return n;
}

function escapedAttrLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 38 || c === 10 || c === 13) n += 4; // &amp; &#10; &#13;
    else if (c === 60 || c === 62 || c === 9) n += 3; // &lt; &gt; &#9;
    else if (c === 39 || c === 34) n += 5; // &apos; &quot;
  }
  return n;
}

function openTagLength(e: XmlElement): number {
  let n = 1 + e.name.length;
  const attrs = e.attrs;
  for (let i = 0; i < attrs.length; i++) n += attrs[i]![0].length + escapedAttrLength(attrs[i]![1]) + 4; // ` k='v'`
  return n;
}

function isBlank(s: string): boolean {
  return /^[ \t\n]*$/.test(s);
}

/**
 * The size of serializeXml(root, indent) in one linear walk that mirrors the serializer, so a
 * definition can be held to the parser's limits (a formatted definition must parse again) without
 * formatting it. test/hardening checks it against serializeXml on the whole corpus.
 */
export function formattedSize(root: XmlElement, indent = ''): FormattedSize {
  const size: FormattedSize = { length: 0, nodes: 0, depth: 0 };
  try {
    layoutSize(root, indent.length, size);
  } catch (err) {
    // A finished walk leaves them empty (and keeps their storage for the next call).
    openEls.length = 0;
    openIndent.length = 0;
    openNext.length = 0;
    inlineTodo.length = 0;
    inlineDepth.length = 0;
    throw err;
  }
  return size;
}

/** The walks' stacks, kept between calls (a define measures its definition every time). */
const openEls: XmlElement[] = [];
const openIndent: number[] = [];
const openNext: number[] = [];
const inlineTodo: XmlNode[] = [];
const inlineDepth: number[] = [];

function countElement(e: XmlElement, d: number, size: FormattedSize): void {
  size.nodes += 1 + e.attrs.length;
  if (d > size.depth) size.depth = d;
}

/** Mixed content: everything inline, exactly as written. */
function inlineSize(n: XmlNode, d: number, size: FormattedSize): number {
  let len = 0;
  inlineTodo.push(n);
  inlineDepth.push(d);
  while (inlineTodo.length > 0) {
    const x = inlineTodo.pop()!;
    const xd = inlineDepth.pop()!;
    switch (x.kind) {
      case 'text':
        len += escapedTextLength(x.text);
        if (!isBlank(x.text)) size.nodes++;
        break;
      case 'cdata':
        len += x.text.length + 12;
        size.nodes++;
        break;
      case 'comment':
        len += x.text.length + 7;
        size.nodes++;
        break;
      case 'pi':
        len += x.target.length + (x.body ? 1 + x.body.length : 0) + 4;
        size.nodes++;
        break;
      case 'element': {
        countElement(x, xd, size);
        const kids = x.children;
        len += openTagLength(x) + (kids.length === 0 ? 2 : 4 + x.name.length);
        for (let i = 0; i < kids.length; i++) {
          inlineTodo.push(kids[i]!);
          inlineDepth.push(xd + 1);
        }
      }
    }
  }
  return len;
}

function openSize(x: XmlElement, at: number, d: number, size: FormattedSize): void {
  if (isMixed(x)) {
    size.length += at + inlineSize(x, d, size) + 1;
    return;
  }
  countElement(x, d, size);
  if (!hasNonText(x)) size.length += at + openTagLength(x) + 3;
  else {
    size.length += at + openTagLength(x) + 2;
    openEls.push(x);
    openIndent.push(at);
    openNext.push(0);
  }
}

/** Depth of the element at stack position `i` is i + 1 (the root is 1). */
function layoutSize(root: XmlElement, indent: number, size: FormattedSize): void {
  openSize(root, indent, 1, size);
  while (openEls.length > 0) {
    const top = openEls.length - 1;
    const e = openEls[top]!;
    const at = openIndent[top]!;
    const kids = e.children;
    const next = openNext[top]!;
    if (next >= kids.length) {
      size.length += at + e.name.length + 4;
      openEls.pop();
      openIndent.pop();
      openNext.pop();
      continue;
    }
    openNext[top] = next + 1;
    const c = kids[next]!;
    if (c.kind === 'element') openSize(c, at + 2, top + 2, size);
    else if (c.kind !== 'text') size.length += at + 2 + inlineSize(c, top + 2, size) + 1;
  }
}
