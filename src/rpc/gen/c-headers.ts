/**
 * Facts the `.x` files take from libvirt's public C headers: numeric constants they name without
 * defining (`VIR_UUID_BUFLEN`, `VIR_SECURITY_MODEL_BUFLEN`, ...) and the public API function names,
 * so a procedure can be reported under the API it stands for (`virDomainGetXMLDesc`).
 * Part of the table generator; never used at run time.
 */

/** Evaluates an integer expression of numbers, names, + - * << and parentheses; undefined when it cannot. */
export function evalIntExpr(expr: string, lookup: (name: string) => number | undefined): number | undefined {
  const plain = expr.replace(/\b(\d[0-9a-fA-FxX]*?)[uUlL]+\b/g, '$1');
  const tokens = plain.match(/0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|<<|[-+*()]/g);
  if (!tokens || tokens.join('') !== plain.replace(/\s+/g, '')) return undefined;
  let pos = 0;
  const primary = (): number | undefined => {
    const t = tokens[pos++];
    if (t === undefined) return undefined;
    if (t === '(') {
      const v = shift();
      if (tokens[pos++] !== ')') return undefined;
      return v;
    }
    if (t === '-') {
      const v = primary();
      return v === undefined ? undefined : -v;
    }
    if (/^(0[xX][0-9a-fA-F]+|\d+)$/.test(t)) return Number(t);
    if (/^[A-Za-z_]/.test(t)) return lookup(t);
    return undefined;
  };
  const product = (): number | undefined => {
    let v = primary();
    while (v !== undefined && tokens[pos] === '*') {
      pos++;
      const r = primary();
      v = r === undefined ? undefined : v * r;
    }
    return v;
  };
  const sum = (): number | undefined => {
    let v = product();
    while (v !== undefined && (tokens[pos] === '+' || tokens[pos] === '-')) {
      const op = tokens[pos++];
      const r = product();
      v = r === undefined ? undefined : op === '+' ? v + r : v - r;
    }
    return v;
  };
  const shift = (): number | undefined => {
    let v = sum();
    while (v !== undefined && tokens[pos] === '<<') {
      pos++;
      const r = sum();
      v = r === undefined ? undefined : v * 2 ** r;
    }
    return v;
  };
  const v = shift();
  return pos === tokens.length ? v : undefined;
}

export interface HeaderFacts {
  /** Integer constants from `#define NAME expr` and `NAME = expr` enum members. */
  constants: Map<string, number>;
  /** Public function names (`virDomainGetXMLDesc`), keyed by their lower-case spelling. */
  functions: Map<string, string>;
}

/** Reads constants and function names from the text of libvirt's public headers. */
export function readHeaders(texts: string[]): HeaderFacts {
  const raw = new Map<string, string>();
  const functions = new Map<string, string>();
  for (const text of texts) {
    const noComments = text.replace(/\/\*[\s\S]*?\*\//g, ' ');
    for (const m of noComments.matchAll(/^\s*#\s*define\s+(VIR_\w+)[ \t]+([^\n]+)$/gm)) raw.set(m[1]!, m[2]!.trim());
    for (const m of noComments.matchAll(/^\s*(VIR_\w+)\s*=\s*([^,}\n]+)[,}\n]/gm)) if (!raw.has(m[1]!)) raw.set(m[1]!, m[2]!.trim());
    for (const m of noComments.matchAll(/\b(vir[A-Z]\w*)\s*\(/g)) functions.set(m[1]!.toLowerCase(), m[1]!);
  }
  const constants = new Map<string, number>();
  const resolving = new Set<string>();
  const lookup = (name: string): number | undefined => {
    if (constants.has(name)) return constants.get(name);
    const expr = raw.get(name);
    if (expr === undefined || resolving.has(name)) return undefined;
    resolving.add(name);
    const v = evalIntExpr(expr, lookup);
    resolving.delete(name);
    if (v !== undefined) constants.set(name, v);
    return v;
  };
  for (const name of raw.keys()) lookup(name);
  return { constants, functions };
}
