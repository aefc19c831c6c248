/**
 * XML text → our tree, on saxes. Refuses what libvirt's hardened libxml2 setup
 * refuses (DTDs, entity declarations) and reports malformed input with
 * line:column as VIR_ERR_XML_DETAIL, like libvirt.
 */
import { SaxesParser } from 'saxes';
import { ErrorCode, VirtError } from '../errors.js';
import { XmlElement } from './tree.js';

/** Largest document accepted, in UTF-16 code units (libvirt caps XML strings at a few MiB on the wire). */
export const MAX_XML_LENGTH = 10 * 1024 * 1024;

export interface ParseOptions {
  /** Name used in error messages, e.g. "domain definition" or a file name. */
  source?: string;
  maxLength?: number;
}

function detailError(line: number, column: number, message: string, source: string): VirtError {
  return new VirtError(ErrorCode.XML_DETAIL, `malformed XML in ${source} at line ${line}, column ${column}: ${message}`);
}

/** Parses one XML document and returns its root element. */
export function parseXml(text: string, options: ParseOptions = {}): XmlElement {
  const source = options.source ?? 'XML document';
  const max = options.maxLength ?? MAX_XML_LENGTH;
  if (typeof text !== 'string') throw new VirtError(ErrorCode.INVALID_ARG, `${source}: XML must be a string`);
  if (text.length > max) {
    throw new VirtError(ErrorCode.XML_ERROR, `${source} is too large: ${text.length} characters, the limit is ${max}`);
  }
  if (text.trim() === '') throw new VirtError(ErrorCode.XML_DETAIL, `malformed XML in ${source}: document is empty`);

  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: VirtError | undefined;
  const fail = (message: string): void => {
    if (!failure) failure = detailError(parser.line, parser.column, message, source);
  };

  parser.on('doctype', () => {
    // A DTD is where entity expansion attacks (XXE, billion laughs) live; libvirt never needs one.
    fail('DOCTYPE and entity declarations are not allowed');
  });
  parser.on('opentag', (tag) => {
    const attrs: [string, string][] = [];
    for (const [k, v] of Object.entries(tag.attributes)) attrs.push([k, v as string]);
    const node = new XmlElement(tag.name, attrs);
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(node);
    else root = node;
    if (!tag.isSelfClosing) stack.push(node);
  });
  parser.on('closetag', (tag) => {
    if (!tag.isSelfClosing) stack.pop();
  });
  parser.on('text', (text) => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push({ kind: 'text', text });
  });
  parser.on('cdata', (text) => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push({ kind: 'cdata', text });
  });
  parser.on('comment', (text) => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push({ kind: 'comment', text });
  });
  parser.on('processinginstruction', (pi) => {
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push({ kind: 'pi', target: pi.target, body: pi.body });
  });
  parser.on('error', (err) => {
    // saxes prefixes "line:column: "; we report position ourselves.
    fail(err.message.replace(/^[^:]*:\d+:\d+: /, '').replace(/^\d+:\d+: /, ''));
  });

  try {
    parser.write(text);
    if (!failure) parser.close();
  } catch (err) {
    if (!failure) fail(err instanceof Error ? err.message : String(err));
  }
  if (failure) throw failure;
  if (!root) throw new VirtError(ErrorCode.XML_DETAIL, `malformed XML in ${source}: no root element`);
  return root;
}
