/**
 * Our tree → text, in libvirt's style: two-space indent, single-quoted
 * attributes, empty elements self-closed, text-only elements on one line.
 */
import { serializeXmlViaBytes } from './serialize-bytes.js';
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

/** Element-only content (whitespace between elements is layout) is re-indented; real text makes it mixed. */
function isMixed(e: XmlElement): boolean {
  for (const c of e.children) {
    if (c.kind === 'cdata' || (c.kind === 'text' && c.text.trim() !== '')) return true;
  }
  return false;
}

function hasNonText(e: XmlElement): boolean {
  for (const c of e.children) if (c.kind !== 'text') return true;
  return false;
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
  for (const [k, v] of e.attrs) n += k.length + escapedAttrLength(v) + 4; // ` k='v'`
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
  let length = 0;
  let nodes = 0;
  let depth = 0;
  const element = (e: XmlElement, d: number): void => {
    nodes += 1 + e.attrs.length;
    if (d > depth) depth = d;
  };
  // Mixed content: everything inline, exactly as written.
  const inlineSize = (n: XmlNode, d: number): number => {
    let len = 0;
    const todo: [XmlNode, number][] = [[n, d]];
    while (todo.length > 0) {
      const [x, xd] = todo.pop()!;
      switch (x.kind) {
        case 'text':
          len += escapedTextLength(x.text);
          if (!isBlank(x.text)) nodes++;
          break;
        case 'cdata':
          len += x.text.length + 12;
          nodes++;
          break;
        case 'comment':
          len += x.text.length + 7;
          nodes++;
          break;
        case 'pi':
          len += x.target.length + (x.body ? 1 + x.body.length : 0) + 4;
          nodes++;
          break;
        case 'element':
          element(x, xd);
          len += openTagLength(x) + (x.children.length === 0 ? 2 : 4 + x.name.length);
          for (const c of x.children) todo.push([c, xd + 1]);
      }
    }
    return len;
  };
  const stack: { e: XmlElement; indent: number; next: number; depth: number }[] = [];
  const open = (x: XmlElement, at: number, d: number): void => {
    if (isMixed(x)) length += at + inlineSize(x, d) + 1;
    else {
      element(x, d);
      if (!hasNonText(x)) length += at + openTagLength(x) + 3;
      else {
        length += at + openTagLength(x) + 2;
        stack.push({ e: x, indent: at, next: 0, depth: d });
      }
    }
  };
  open(root, indent.length, 1);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const kids = top.e.children;
    if (top.next >= kids.length) {
      length += top.indent + top.e.name.length + 4;
      stack.pop();
      continue;
    }
    const c = kids[top.next++]!;
    if (c.kind === 'element') open(c, top.indent + 2, top.depth + 1);
    else if (c.kind !== 'text') length += top.indent + 2 + inlineSize(c, top.depth + 1) + 1;
  }
  return { length, nodes, depth };
}
