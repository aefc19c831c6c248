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

/** Same attribute set (order aside); a Map past a few attributes keeps this linear. */
function sameAttributes(a: XmlElement, b: XmlElement): boolean {
  if (a.attrs.length !== b.attrs.length) return false;
  if (a.attrs.length <= 8) return a.attrs.every(([k, v]) => b.attr(k) === v);
  const other = new Map(b.attrs);
  return other.size === b.attrs.length && a.attrs.every(([k, v]) => other.get(k) === v);
}

interface Pair {
  a: XmlElement;
  b: XmlElement;
  parent: Pair | undefined;
}

/** `/domain/devices/disk`: built only for the difference reported, never per level. */
function pathOf(p: Pair): string {
  const names: string[] = [];
  for (let q: Pair | undefined = p; q; q = q.parent) names.push(q.a.name);
  return '/' + names.reverse().join('/');
}

/** The difference between two elements themselves (children aside), or undefined. */
function nodeDiff(p: Pair, todo: Pair[]): string | undefined {
  const { a, b } = p;
  if (a.name !== b.name) return `${pathOf(p)}: element name ${a.name} != ${b.name}`;
  if (!sameAttributes(a, b)) {
    const fmt = (e: XmlElement) => e.attrs.map(([k, v]) => `${k}='${v}'`).join(' ');
    return `${pathOf(p)}: attributes [${fmt(a)}] != [${fmt(b)}]`;
  }
  const ca = significant(a.children);
  const cb = significant(b.children);
  const ea = ca.filter((c) => c.kind === 'element');
  const eb = cb.filter((c) => c.kind === 'element');
  if (ea.length !== eb.length) {
    return `${pathOf(p)}: ${ea.length} child elements [${ea.map((e) => (e as XmlElement).name).join(',')}] != ${eb.length} [${eb.map((e) => (e as XmlElement).name).join(',')}]`;
  }
  const children: Pair[] = [];
  for (let i = 0; i < ca.length || i < cb.length; i++) {
    const x = ca[i];
    const y = cb[i];
    if (!x || !y) return `${pathOf(p)}: child count differs`;
    if (x.kind === 'element' && y.kind === 'element') {
      children.push({ a: x, b: y, parent: p });
    } else if (x.kind !== y.kind) {
      // Text and CDATA are the same content written two ways.
      const tx = x.kind === 'text' || x.kind === 'cdata';
      const ty = y.kind === 'text' || y.kind === 'cdata';
      if (!(tx && ty && (x as { text: string }).text.trim() === (y as { text: string }).text.trim())) {
        return `${pathOf(p)}: node kind ${x.kind} != ${y.kind}`;
      }
    } else if (x.kind !== 'element' && y.kind !== 'element' && x.kind !== 'pi' && y.kind !== 'pi') {
      if (x.text.trim() !== y.text.trim()) return `${pathOf(p)}: text ${JSON.stringify(x.text)} != ${JSON.stringify(y.text)}`;
    }
  }
  // Reversed onto the stack, so the first difference in document order is the one reported.
  for (let i = children.length - 1; i >= 0; i--) todo.push(children[i]!);
  return undefined;
}

/** Returns undefined when equal, else a path and a reason for the first difference (depth-first, document order). */
export function xmlDiff(a: XmlElement, b: XmlElement): string | undefined {
  const todo: Pair[] = [{ a, b, parent: undefined }];
  while (todo.length > 0) {
    const d = nodeDiff(todo.pop()!, todo);
    if (d) return d;
  }
  return undefined;
}

export function xmlEqual(a: XmlElement, b: XmlElement): boolean {
  return xmlDiff(a, b) === undefined;
}
