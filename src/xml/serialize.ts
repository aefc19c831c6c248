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

function isBlank(n: XmlNode): boolean {
  return n.kind === 'text' && n.text.trim() === '';
}

function openTag(e: XmlElement): string {
  let s = '<' + e.name;
  for (const [k, v] of e.attrs) s += ' ' + k + "='" + escapeAttr(v) + "'";
  return s;
}

function writeInline(n: XmlNode, out: string[]): void {
  switch (n.kind) {
    case 'text':
      out.push(escapeText(n.text));
      return;
    case 'cdata':
      out.push('<![CDATA[' + n.text + ']]>');
      return;
    case 'comment':
      out.push('<!--' + n.text + '-->');
      return;
    case 'pi':
      out.push('<?' + n.target + (n.body ? ' ' + n.body : '') + '?>');
      return;
    case 'element':
      if (n.children.length === 0) {
        out.push(openTag(n) + '/>');
        return;
      }
      out.push(openTag(n) + '>');
      for (const c of n.children) writeInline(c, out);
      out.push('</' + n.name + '>');
  }
}

function writeElement(e: XmlElement, indent: string, out: string[]): void {
  const kids = e.children;
  if (kids.length === 0) {
    out.push(indent + openTag(e) + '/>\n');
    return;
  }
  // Element-only content (whitespace between elements is layout) is re-indented;
  // anything holding real text is mixed content and is written exactly as it is.
  const structural = kids.every((c) => c.kind === 'element' || c.kind === 'comment' || c.kind === 'pi' || isBlank(c));
  if (!structural) {
    const parts: string[] = [];
    writeInline(e, parts);
    out.push(indent + parts.join('') + '\n');
    return;
  }
  const significant = kids.filter((c) => !isBlank(c));
  if (significant.length === 0) {
    out.push(indent + openTag(e) + '/>\n');
    return;
  }
  out.push(indent + openTag(e) + '>\n');
  const inner = indent + '  ';
  for (const c of significant) {
    if (c.kind === 'element') writeElement(c, inner, out);
    else {
      const parts: string[] = [];
      writeInline(c, parts);
      out.push(inner + parts.join('') + '\n');
    }
  }
  out.push(indent + '</' + e.name + '>\n');
}

/** Serializes an element (and its subtree) in libvirt's layout, ending with a newline. */
export function serializeXml(root: XmlElement, indent = ''): string {
  const out: string[] = [];
  writeElement(root, indent, out);
  return out.join('');
}
