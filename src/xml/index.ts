export { XmlElement, el, cloneNode, trimmed } from './tree.js';
export type { XmlNode, XmlText, XmlComment, XmlCData, XmlPI } from './tree.js';
export { parseXml, parseStoredXml, MAX_XML_ATTRIBUTES, MAX_XML_DEPTH, MAX_XML_LENGTH, MAX_XML_NODES } from './parse.js';
export type { ParseOptions } from './parse.js';
export { decodeXmlBytes, invalidUtf8Offset, MAX_XML_BYTES } from './decode.js';
export { serializeXml, escapeAttr, escapeText, formattedSize } from './serialize.js';
export type { FormattedSize } from './serialize.js';
export { serializeXmlBytes, serializeXmlMeasured } from './serialize-bytes.js';
export { xmlDiff, xmlEqual } from './equal.js';
