/** Values named in error messages, whatever a caller passed. */

/** A short, safe description of any value for a message (Symbols, Proxies and throwing toString included). */
export function describeValue(v: unknown): string {
  try {
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
      case 'number':
      case 'boolean':
      case 'bigint':
        return `${String(v)}${typeof v === 'bigint' ? 'n' : ''}`;
      case 'undefined':
        return 'undefined';
      case 'symbol':
        return 'a symbol';
      case 'function':
        return 'a function';
      default:
        if (v === null) return 'null';
        if (Array.isArray(v)) return 'an array';
        if (v instanceof Uint8Array) return `${v.length} bytes`;
        return 'an object';
    }
  } catch {
    return 'an unprintable value';
  }
}
