export { XmlElement, el, cloneNode } from './tree.js';
export type { XmlNode, XmlText, XmlComment, XmlCData, XmlPI } from './tree.js';
export { parseXml, MAX_XML_LENGTH } from './parse.js';
export type { ParseOptions } from './parse.js';
export { decodeXmlBytes, invalidUtf8Offset, MAX_XML_BYTES } from './decode.js';
export { serializeXml, escapeAttr, escapeText } from './serialize.js';
export { xmlDiff, xmlEqual } from './equal.js';
