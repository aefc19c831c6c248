/**
 * XML equality as libvirt's tests mean it: same elements in the same order,
 * same attribute sets, same non-layout text. Whitespace between elements,
 * attribute order, quote style and character references do not matter.
 */
import type { XmlElement, XmlNode } from './tree.js';

function significant(children: XmlNode[]): XmlNode[] {
  // Blank text is layout even with no element siblings: text is compared trimmed anyway, and
  // serializeXml writes `<devices>\n  </devices>` as `<devices/>`.
  return children.filter((c) => c.kind !== 'pi' && !(c.kind === 'text' && c.text.trim() === ''));
}

/** Returns undefined when equal, else a path and a reason for the first difference. */
export function xmlDiff(a: XmlElement, b: XmlElement, path = ''): string | undefined {
  const here = `${path}/${a.name}`;
  if (a.name !== b.name) return `${here}: element name ${a.name} != ${b.name}`;
  if (a.attrs.length !== b.attrs.length || a.attrs.some(([k, v]) => b.attr(k) !== v)) {
    const fmt = (e: XmlElement) => e.attrs.map(([k, v]) => `${k}='${v}'`).join(' ');
    return `${here}: attributes [${fmt(a)}] != [${fmt(b)}]`;
  }
  const ca = significant(a.children);
  const cb = significant(b.children);
  const ea = ca.filter((c) => c.kind === 'element');
  const eb = cb.filter((c) => c.kind === 'element');
  if (ea.length !== eb.length) {
    return `${here}: ${ea.length} child elements [${ea.map((e) => (e as XmlElement).name).join(',')}] != ${eb.length} [${eb.map((e) => (e as XmlElement).name).join(',')}]`;
  }
  for (let i = 0; i < ca.length || i < cb.length; i++) {
    const x = ca[i];
    const y = cb[i];
    if (!x || !y) return `${here}: child count differs`;
    if (x.kind === 'element' && y.kind === 'element') {
      const d = xmlDiff(x, y, here);
      if (d) return d;
    } else if (x.kind !== y.kind) {
      // Text and CDATA are the same content written two ways.
      const tx = x.kind === 'text' || x.kind === 'cdata';
      const ty = y.kind === 'text' || y.kind === 'cdata';
      if (!(tx && ty && (x as { text: string }).text.trim() === (y as { text: string }).text.trim())) {
        return `${here}: node kind ${x.kind} != ${y.kind}`;
      }
    } else if (x.kind !== 'element' && y.kind !== 'element' && x.kind !== 'pi' && y.kind !== 'pi') {
      if (x.text.trim() !== y.text.trim()) return `${here}: text ${JSON.stringify(x.text)} != ${JSON.stringify(y.text)}`;
    }
  }
  return undefined;
}

export function xmlEqual(a: XmlElement, b: XmlElement): boolean {
  return xmlDiff(a, b) === undefined;
}
