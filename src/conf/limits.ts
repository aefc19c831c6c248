/**
 * Size limits of definitions, beyond the parser's limits on each input document: a definition grows
 * after parsing (defaults, attached devices, live names), and what virtkit formats must parse again
 * (stored definitions, `getXMLDesc` output fed back to define). Each check is one linear walk.
 */
import { ErrorCode, virtError } from '../errors.js';
import { type FormattedSize, formattedSize, MAX_XML_DEPTH, MAX_XML_LENGTH, MAX_XML_NODES, serializeXmlMeasured, type XmlElement } from '../xml/index.js';

/**
 * Most XML nodes (elements, attributes, text, comments) in one device element. libvirt's largest
 * devices hold ~40 elements (a disk with a backing chain); this leaves room for long chains while an
 * `<interface>` stuffed with 50,000 unknown elements is refused instead of slowing every later call.
 */
export const MAX_DEVICE_NODES = 2_000;

/**
 * Most devices in one domain. Several define-time steps follow libvirt's algorithms, which are
 * quadratic in the number of devices (controller insertion order, port and alias numbering,
 * address assignment); this bound keeps each call well under a second. libvirt's largest test
 * domains hold ~250 devices (243 of them controllers).
 */
export const MAX_DEVICES = 512;

/** Refuses a `<devices>` element with more than MAX_DEVICES devices. */
export function checkDeviceCount(devices: XmlElement | undefined): void {
  if (!devices) return;
  let all = 0;
  for (const c of devices.children) if (c.kind === 'element') all++;
  if (all > MAX_DEVICES) throw virtError(ErrorCode.XML_ERROR, `the domain would hold ${all} devices, over the limit of ${MAX_DEVICES}`);
}

/** Refuses a device element holding more than MAX_DEVICE_NODES nodes (stops counting at the limit). */
export function checkDeviceSize(dev: XmlElement): void {
  let nodes = 0;
  const todo: XmlElement[] = [dev];
  while (todo.length > 0) {
    const e = todo.pop()!;
    nodes += 1 + e.attrs.length;
    for (const c of e.children) {
      if (c.kind === 'element') todo.push(c);
      else if (c.kind !== 'text' || c.text.trim() !== '') nodes++;
    }
    if (nodes > MAX_DEVICE_NODES) {
      throw virtError(ErrorCode.XML_ERROR, `device <${dev.name}> holds more than ${MAX_DEVICE_NODES} XML nodes (elements, attributes, text), the limit`);
    }
  }
}

/** A definition must format within the parser's limits, so it can always be read back. */
export function checkDefinitionSize(root: XmlElement): void {
  checkFormattedSize(root, formattedSize(root));
}

/** checkDefinitionSize, formatting the definition in the same walk: its UTF-8 bytes once it fits. */
export function formatWithinLimits(root: XmlElement): Buffer {
  const { bytes, size } = serializeXmlMeasured(root);
  checkFormattedSize(root, size);
  return bytes;
}

function checkFormattedSize(root: XmlElement, size: FormattedSize): void {
  const what = `the <${root.name}> definition`;
  if (size.length > MAX_XML_LENGTH) {
    throw virtError(ErrorCode.XML_ERROR, `${what} would be ${size.length} characters once formatted, over the limit of ${MAX_XML_LENGTH}`);
  }
  if (size.nodes > MAX_XML_NODES) {
    throw virtError(ErrorCode.XML_ERROR, `${what} would hold ${size.nodes} XML nodes, over the limit of ${MAX_XML_NODES}`);
  }
  if (size.depth > MAX_XML_DEPTH) {
    throw virtError(ErrorCode.XML_ERROR, `${what} would nest elements ${size.depth} deep, over the limit of ${MAX_XML_DEPTH}`);
  }
}
