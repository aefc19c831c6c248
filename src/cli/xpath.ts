/**
 * `dumpxml --xpath`: libxml2's own XPath 1.0 (through libxml2-wasm, loaded only for this
 * option) over the dumped XML, printed the way virsh prints the node set: each node
 * serialized by libxml2 on its own line (attributes as ` name="value"`, text as text), or
 * with `--wrap` all of them inside one `<nodes>` element.
 */
import { ErrorCode, ErrorDomain, VirtError } from '../errors.js';

type Lib = typeof import('libxml2-wasm');
type Node = InstanceType<Lib['XmlNode']>;

const escapeText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string): string => escapeText(s).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');

function incorrect(expr: string): VirtError {
  return new VirtError(ErrorCode.INTERNAL_ERROR, `internal error: Incorrect xpath '${expr}'`, { domain: ErrorDomain.NONE });
}

/** A node as its own text: elements re-indented by libxml2, attributes ` name="v"`, text escaped. */
function nodeText(lib: Lib, node: Node): { kind: 'element' | 'attribute' | 'text'; text: string } {
  if (node instanceof lib.XmlElement) return { kind: 'element', text: node.toString({ format: true }) };
  if (node instanceof lib.XmlAttribute) {
    const name = node.prefix ? `${node.prefix}:${node.name}` : node.name;
    return { kind: 'attribute', text: ` ${name}="${escapeAttr(node.content)}"` };
  }
  return { kind: 'text', text: escapeText(node.content) };
}

/** The node set `expr` selects in `xml`, formatted as virsh's dumpxml --xpath [--wrap] prints it (no final newline). */
export async function selectXPath(xml: string, expr: string, wrap: boolean): Promise<string> {
  const lib = await import('libxml2-wasm');
  let doc: InstanceType<Lib['XmlDocument']>;
  try {
    doc = lib.XmlDocument.fromString(xml, { option: lib.ParseOption.XML_PARSE_NOBLANKS | lib.ParseOption.XML_PARSE_NONET });
  } catch (err) {
    throw new VirtError(ErrorCode.XML_ERROR, `XML error: ${err instanceof Error ? err.message : String(err)}`, { domain: ErrorDomain.NONE });
  }
  try {
    let result: ReturnType<typeof doc.eval>;
    try {
      result = doc.eval(expr);
    } catch (err) {
      throw new VirtError(ErrorCode.INVALID_ARG, `invalid XPath expression '${expr}'`, { domain: ErrorDomain.NONE, cause: err });
    }
    if (!Array.isArray(result)) throw incorrect(expr);
    const parts = result.map((n) => nodeText(lib, n));
    if (!wrap) return parts.map((p) => p.text).join('\n');
    // Attributes become the wrapper's own: a second one of the same name replaces the first, as in libxml2.
    const byName = new Map<string, string>();
    for (const p of parts) {
      if (p.kind !== 'attribute') continue;
      const name = p.text.slice(1, p.text.indexOf('='));
      byName.delete(name);
      byName.set(name, p.text);
    }
    const attrs = [...byName.values()].join('');
    const body = parts.filter((p) => p.kind !== 'attribute');
    if (body.length === 0) return `<nodes${attrs}/>`;
    // libxml2 indents children only when none of them is text.
    if (body.some((p) => p.kind === 'text')) return `<nodes${attrs}>${body.map((p) => p.text).join('')}</nodes>`;
    const indented = body.map((p) => p.text.replace(/^/gm, '  ')).join('\n');
    return `<nodes${attrs}>\n${indented}\n</nodes>`;
  } finally {
    doc.dispose();
  }
}
