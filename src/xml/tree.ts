/**
 * Our small ordered XML tree. Attributes keep their order, children keep their
 * order, and nothing we do not understand is dropped, so a document survives
 * parse → edit → serialize with only the edits changed.
 */

export type XmlNode = XmlElement | XmlText | XmlComment | XmlCData | XmlPI;

export interface XmlText {
  readonly kind: 'text';
  text: string;
}
export interface XmlComment {
  readonly kind: 'comment';
  text: string;
}
export interface XmlCData {
  readonly kind: 'cdata';
  text: string;
}
export interface XmlPI {
  readonly kind: 'pi';
  target: string;
  body: string;
}

export class XmlElement {
  readonly kind = 'element' as const;
  name: string;
  /**
   * Name/value pairs in document order. A pair may be shared between elements (a clone shares its
   * original's): never write into one, replace it (setAttr does).
   */
  attrs: [string, string][];
  children: XmlNode[];

  constructor(name: string, attrs: [string, string][] = [], children: XmlNode[] = []) {
    this.name = name;
    this.attrs = attrs;
    this.children = children;
  }

  /** Value of an attribute, or undefined. */
  attr(name: string): string | undefined {
    const attrs = this.attrs;
    for (let i = 0; i < attrs.length; i++) if (attrs[i]![0] === name) return attrs[i]![1];
    return undefined;
  }

  hasAttr(name: string): boolean {
    const attrs = this.attrs;
    for (let i = 0; i < attrs.length; i++) if (attrs[i]![0] === name) return true;
    return false;
  }

  /** Sets an attribute in place (keeping its position) or appends it. `undefined` removes it. */
  setAttr(name: string, value: string | number | undefined): this {
    if (value === undefined) return this.removeAttr(name);
    const v = String(value);
    const attrs = this.attrs;
    for (let i = 0; i < attrs.length; i++) {
      if (attrs[i]![0] === name) {
        if (attrs[i]![1] !== v) attrs[i] = [name, v];
        return this;
      }
    }
    attrs.push([name, v]);
    return this;
  }

  removeAttr(name: string): this {
    if (this.hasAttr(name)) this.attrs = this.attrs.filter((a) => a[0] !== name);
    return this;
  }

  /** Child elements, optionally only those with the given name. */
  elements(name?: string): XmlElement[] {
    const out: XmlElement[] = [];
    const children = this.children;
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!;
      if (c instanceof XmlElement && (name === undefined || c.name === name)) out.push(c);
    }
    return out;
  }

  /** First child element with this name. */
  child(name: string): XmlElement | undefined {
    const children = this.children;
    for (let i = 0; i < children.length; i++) {
      const c = children[i]!;
      if (c instanceof XmlElement && c.name === name) return c;
    }
    return undefined;
  }

  /** Follows a path of child names: `el.find('os', 'type')`. */
  find(...path: string[]): XmlElement | undefined {
    let cur: XmlElement | undefined = this;
    for (const p of path) {
      cur = cur.child(p);
      if (!cur) return undefined;
    }
    return cur;
  }

  /** The child with this name, created (at `position` or at the end) if missing. */
  ensureChild(name: string, position?: number): XmlElement {
    const existing = this.child(name);
    if (existing) return existing;
    const el = new XmlElement(name);
    this.insert(el, position);
    return el;
  }

  /** Concatenated text and CDATA content of this element (not of descendants). */
  text(): string {
    let s = '';
    for (const c of this.children) if (c.kind === 'text' || c.kind === 'cdata') s += c.text;
    return s;
  }

  /** Replaces all content with one text node. */
  setText(value: string | number): this {
    this.children = [{ kind: 'text', text: String(value) }];
    return this;
  }

  /** Trimmed text of a child element, or undefined when the child is absent. */
  childText(name: string): string | undefined {
    const c = this.child(name);
    return c ? trimmed(c.text()) : undefined;
  }

  insert(node: XmlNode, position?: number): void {
    if (position === undefined || position >= this.children.length) this.children.push(node);
    else this.children.splice(Math.max(0, position), 0, node);
  }

  append(node: XmlNode): this {
    this.children.push(node);
    return this;
  }

  /** Removes a child node; returns whether it was there. */
  remove(node: XmlNode): boolean {
    const i = this.children.indexOf(node);
    if (i < 0) return false;
    this.children.splice(i, 1);
    return true;
  }

  removeChildren(name: string): void {
    this.children = this.children.filter((c) => !(c.kind === 'element' && c.name === name));
  }

  /**
   * Inserts `node` before the first child element whose name comes later in
   * `order` (libvirt's formatter order), so added elements land where libvirt
   * would print them. Unknown names go to the end.
   */
  insertOrdered(node: XmlElement, order: readonly string[]): void {
    const rank = order.indexOf(node.name);
    if (rank >= 0) {
      for (let i = 0; i < this.children.length; i++) {
        const c = this.children[i]!;
        if (c.kind !== 'element') continue;
        const r = order.indexOf(c.name);
        if (r > rank) {
          this.children.splice(i, 0, node);
          return;
        }
      }
    }
    this.children.push(node);
  }

  /** Deep copy, with an explicit stack: any depth, each node copied once. */
  clone(): XmlElement {
    const root = shallowCopy(this);
    const todo: [XmlElement, XmlElement][] = [[this, root]];
    while (todo.length > 0) {
      const [from, to] = todo.pop()!;
      const kids = from.children;
      const copies: XmlNode[] = new Array(kids.length);
      for (let i = 0; i < kids.length; i++) {
        const c = kids[i]!;
        if (c.kind === 'element') {
          const copy = shallowCopy(c);
          todo.push([c, copy]);
          copies[i] = copy;
        } else copies[i] = copyLeaf(c);
      }
      to.children = copies;
    }
    return root;
  }
}

/** Whether `c` may be whitespace to trim() (ASCII spaces and controls, or beyond ASCII). */
const maySpace = (c: number): boolean => c <= 32 || c >= 0x80;

/** s.trim(), without the call when there is nothing to trim (nearly always). */
export function trimmed(s: string): string {
  return s.length === 0 || (!maySpace(s.charCodeAt(0)) && !maySpace(s.charCodeAt(s.length - 1))) ? s : s.trim();
}

/** An element with its name and attributes copied, and no children yet. */
function shallowCopy(e: XmlElement): XmlElement {
  // Pairs are never written into (see attrs): the copy shares them.
  return new XmlElement(e.name, e.attrs.length === 0 ? [] : e.attrs.slice(), []);
}

function copyLeaf(n: Exclude<XmlNode, XmlElement>): XmlNode {
  return n.kind === 'pi' ? { kind: 'pi', target: n.target, body: n.body } : ({ kind: n.kind, text: n.text } as XmlNode);
}

export function cloneNode(n: XmlNode): XmlNode {
  return n.kind === 'element' ? n.clone() : copyLeaf(n);
}

/** Builds an element: `el('target', { dev: 'vda', bus: 'virtio' })`. Undefined attributes are skipped. */
export function el(
  name: string,
  attrs: Record<string, string | number | undefined> = {},
  ...children: (XmlNode | string)[]
): XmlElement {
  // Arrays of their exact size: a pushed-to empty array reserves 16 slots, for the ~2 an element holds.
  let n = 0;
  for (const k in attrs) if (attrs[k] !== undefined) n++;
  const pairs: [string, string][] = new Array(n);
  let i = 0;
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined) pairs[i++] = [k, String(v)];
  }
  const kids: XmlNode[] = new Array(children.length);
  for (let j = 0; j < children.length; j++) {
    const c = children[j]!;
    kids[j] = typeof c === 'string' ? { kind: 'text', text: c } : c;
  }
  return new XmlElement(name, pairs, kids);
}
