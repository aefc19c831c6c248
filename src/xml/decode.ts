/**
 * XML bytes → text. Only UTF-8 is accepted (libvirt writes and expects UTF-8), and strictly:
 * a byte sequence that is not UTF-8 is an error naming its byte offset, never a silent U+FFFD
 * that would change a path or a name behind the user's back.
 */
import { ErrorCode, ErrorDomain, VirtError } from '../errors.js';

/** Largest XML input in bytes: the same 10 MiB as the parser's character limit (and virsh's VSH_MAX_XML_FILE). */
export const MAX_XML_BYTES = 10 * 1024 * 1024;

const strict = new TextDecoder('utf-8', { fatal: true });

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence (linear; called only on failure). */
export function invalidUtf8Offset(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) [need, min] = [1, 0x80];
    else if (c >= 0xe0 && c <= 0xef) [need, min] = [2, 0x800];
    else if (c >= 0xf0 && c <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return i;
    i += need + 1;
  }
  return -1;
}

/** Decodes XML bytes as strict UTF-8; too large is VIR_ERR_XML_ERROR, bad UTF-8 VIR_ERR_XML_DETAIL with the byte offset. */
export function decodeXmlBytes(bytes: Uint8Array, source = 'XML document', maxBytes = MAX_XML_BYTES): string {
  if (bytes.length > maxBytes) {
    throw new VirtError(ErrorCode.XML_ERROR, `${source} is too large: ${bytes.length} bytes, the limit is ${maxBytes}`, { domain: ErrorDomain.XML });
  }
  try {
    return strict.decode(bytes);
  } catch {
    // TextDecoder does not say where; find the offset ourselves (both follow the WHATWG UTF-8 rules).
    const at = Math.max(0, invalidUtf8Offset(bytes));
    const shown = Array.from(bytes.subarray(at, at + 4), (x) => '0x' + x.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    throw new VirtError(ErrorCode.XML_DETAIL, `malformed XML in ${source}: invalid UTF-8 at byte offset ${at} (bytes ${shown})`, {
      domain: ErrorDomain.XML,
    });
  }
}
