/**
 * Our tree → text, in libvirt's style: two-space indent, single-quoted
 * attributes, empty elements self-closed, text-only elements on one line.
 */
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

function inline(n: XmlNode): string {
  switch (n.kind) {
    case 'text':
      return escapeText(n.text);
    case 'cdata':
      return '<![CDATA[' + n.text + ']]>';
    case 'comment':
      return '<!--' + n.text + '-->';
    case 'pi':
      return '<?' + n.target + (n.body ? ' ' + n.body : '') + '?>';
    case 'element': {
      if (n.children.length === 0) return openTag(n) + '/>';
      let s = openTag(n) + '>';
      for (const c of n.children) s += inline(c);
      return s + '</' + n.name + '>';
    }
  }
}

/** Appends an element in libvirt's layout to `out`. */
function element(e: XmlElement, indent: string, out: string[]): void {
  const kids = e.children;
  // Element-only content (whitespace between elements is layout) is re-indented;
  // anything holding real text is mixed content and is written exactly as it is.
  let significant = 0;
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.kind === 'text' || c.kind === 'cdata') {
      if (c.kind === 'cdata' || c.text.trim() !== '') {
        out.push(indent + inline(e) + '\n');
        return;
      }
    } else significant++;
  }
  if (significant === 0) {
    out.push(indent + openTag(e) + '/>\n');
    return;
  }
  out.push(indent + openTag(e) + '>\n');
  const inner = indent + '  ';
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.kind === 'element') element(c, inner, out);
    else if (c.kind !== 'text') out.push(inner + inline(c) + '\n');
  }
  out.push(indent + '</' + e.name + '>\n');
}

/**
 * Serializes an element (and its subtree) in libvirt's layout, ending with a newline.
 * One join at the end yields a flat string: `+=` would leave a rope of small pieces,
 * which costs ~8x the text's size while definitions are stored by the ten thousand.
 */
export function serializeXml(root: XmlElement, indent = ''): string {
  const out: string[] = [];
  element(root, indent, out);
  return out.join('');
}
