/**
 * `<metadata>` as libvirt keeps it (virXMLNodeSanitizeNamespaces): only namespaced elements, and one
 * per namespace URI (the first).
 */
import type { XmlElement } from '../../xml/index.js';
import type { DomainDef } from '../domain.js';

/** The namespace URI of an element, from its own or its ancestors' xmlns declarations. */
function namespaceOf(e: XmlElement, ancestors: XmlElement[]): string | undefined {
  const colon = e.name.indexOf(':');
  const attr = colon >= 0 ? `xmlns:${e.name.slice(0, colon)}` : 'xmlns';
  for (const x of [e, ...ancestors]) {
    const v = x.attr(attr);
    if (v !== undefined) return v || undefined;
  }
  return undefined;
}

export function sanitizeMetadata(def: DomainDef): void {
  const md = def.root.child('metadata');
  if (!md) return;
  const seen = new Set<string>();
  const keep = new Set<XmlElement>();
  for (const e of md.elements()) {
    const ns = namespaceOf(e, [md, def.root]);
    if (ns === undefined || seen.has(ns)) continue;
    seen.add(ns);
    keep.add(e);
  }
  if (keep.size === md.elements().length) return;
  md.children = md.children.filter((c) => c.kind !== 'element' || keep.has(c));
}
