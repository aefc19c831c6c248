/**
 * Parser for the XDR language of rpcgen's `.x` files (RFC 4506 §6, with rpcgen's `%` pass-through
 * lines and C comments), enough for libvirt's remote_protocol.x, virnetprotocol.x and
 * virkeepaliveprotocol.x. Part of the table generator (`scripts/gen-rpc.ts`); never used at run time.
 * Doc comments (`/** ... *\/`) are kept and attached to the enum member that follows them, because
 * libvirt writes its per-procedure annotations (`@acl`, `@priority`, `@generate`) there.
 */

export type Value = number | string;

export type Prim = 'int' | 'uint' | 'hyper' | 'uhyper' | 'float' | 'double' | 'bool' | 'char' | 'uchar' | 'short' | 'ushort';

export type TypeSpec =
  | { kind: 'prim'; name: Prim }
  | { kind: 'named'; name: string }
  | { kind: 'enum'; body: EnumMember[] }
  | { kind: 'struct'; body: Decl[] }
  | { kind: 'union'; body: UnionBody };

export type Decl =
  | { shape: 'void' }
  | { shape: 'plain' | 'optional'; name: string; type: TypeSpec }
  | { shape: 'fixed' | 'var'; name: string; type: TypeSpec; size?: Value }
  | { shape: 'fixed-opaque' | 'var-opaque' | 'string'; name: string; size?: Value };

export interface EnumMember {
  name: string;
  value: Value;
  /** The doc comment before the member, if any. */
  doc?: string;
}

export interface UnionArm {
  /** Case labels; empty for `default`. */
  cases: Value[];
  decl: Decl;
}

export interface UnionBody {
  discriminant: Decl;
  arms: UnionArm[];
}

export type Definition =
  | { kind: 'const'; name: string; value: Value }
  | { kind: 'typedef'; name: string; decl: Decl }
  | { kind: 'enum'; name: string; body: EnumMember[] }
  | { kind: 'struct'; name: string; body: Decl[] }
  | { kind: 'union'; name: string; body: UnionBody };

interface Token {
  text: string;
  line: number;
  doc?: string;
}

export class XdrSyntaxError extends Error {
  override name = 'XdrSyntaxError';
}

function tokenize(src: string, file: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let doc: string | undefined;
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
    } else if (c === '%' && (i === 0 || src[i - 1] === '\n')) {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new XdrSyntaxError(`${file}:${line}: unterminated comment`);
      const text = src.slice(i, end + 2);
      if (text.startsWith('/**')) doc = text;
      for (let k = i; k < end; k++) if (src[k] === '\n') line++;
      i = end + 2;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      out.push({ text: src.slice(i, j), line, doc });
      doc = undefined;
      i = j;
    } else if (/[0-9-]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9A-Fa-fxX]/.test(src[j]!)) j++;
      out.push({ text: src.slice(i, j), line });
      i = j;
    } else if ('{}()[]<>;,=*:'.includes(c)) {
      out.push({ text: c, line });
      i++;
    } else {
      throw new XdrSyntaxError(`${file}:${line}: unexpected character '${c}'`);
    }
  }
  return out;
}

class Parser {
  #pos = 0;
  constructor(
    readonly tokens: Token[],
    readonly file: string,
  ) {}

  #peek(): Token | undefined {
    return this.tokens[this.#pos];
  }

  #fail(msg: string): never {
    const t = this.#peek() ?? this.tokens[this.tokens.length - 1];
    throw new XdrSyntaxError(`${this.file}:${t?.line ?? 0}: ${msg}${this.#peek() ? ` near '${this.#peek()!.text}'` : ' at end of file'}`);
  }

  #next(): Token {
    const t = this.tokens[this.#pos];
    if (!t) this.#fail('unexpected end of file');
    this.#pos++;
    return t;
  }

  #accept(text: string): boolean {
    if (this.#peek()?.text === text) {
      this.#pos++;
      return true;
    }
    return false;
  }

  #expect(text: string): void {
    if (!this.#accept(text)) this.#fail(`expected '${text}'`);
  }

  #ident(): string {
    const t = this.#next();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(t.text)) {
      this.#pos--;
      this.#fail('expected an identifier');
    }
    return t.text;
  }

  #value(): Value {
    const t = this.#next();
    if (/^-?(0[xX][0-9A-Fa-f]+|[0-9]+)$/.test(t.text)) return Number(t.text.startsWith('-') ? -Number(t.text.slice(1)) : Number(t.text));
    if (/^[A-Za-z_]\w*$/.test(t.text)) return t.text;
    this.#pos--;
    return this.#fail('expected a number or a constant name');
  }

  parse(): Definition[] {
    const defs: Definition[] = [];
    while (this.#peek()) defs.push(this.#definition());
    return defs;
  }

  #definition(): Definition {
    const kw = this.#ident();
    let def: Definition;
    if (kw === 'const') {
      const name = this.#ident();
      this.#expect('=');
      def = { kind: 'const', name, value: this.#value() };
    } else if (kw === 'typedef') {
      const decl = this.#decl();
      if (decl.shape === 'void') this.#fail('typedef of void');
      def = { kind: 'typedef', name: decl.name, decl };
    } else if (kw === 'enum') {
      def = { kind: 'enum', name: this.#ident(), body: this.#enumBody() };
    } else if (kw === 'struct') {
      def = { kind: 'struct', name: this.#ident(), body: this.#structBody() };
    } else if (kw === 'union') {
      def = { kind: 'union', name: this.#ident(), body: this.#unionBody() };
    } else {
      this.#pos--;
      this.#fail('expected const, typedef, enum, struct or union');
    }
    this.#expect(';');
    return def;
  }

  #enumBody(): EnumMember[] {
    this.#expect('{');
    const members: EnumMember[] = [];
    let next = 0;
    while (!this.#accept('}')) {
      const doc = this.#peek()?.doc;
      const name = this.#ident();
      let value: Value = next;
      if (this.#accept('=')) value = this.#value();
      members.push(doc ? { name, value, doc } : { name, value });
      if (typeof value === 'number') next = value + 1;
      if (!this.#accept(',')) {
        this.#expect('}');
        break;
      }
    }
    return members;
  }

  #structBody(): Decl[] {
    this.#expect('{');
    const decls: Decl[] = [];
    while (!this.#accept('}')) {
      decls.push(this.#decl());
      this.#expect(';');
    }
    return decls;
  }

  #unionBody(): UnionBody {
    this.#expect('switch');
    this.#expect('(');
    const discriminant = this.#decl();
    this.#expect(')');
    this.#expect('{');
    const arms: UnionArm[] = [];
    while (!this.#accept('}')) {
      const cases: Value[] = [];
      if (this.#accept('default')) {
        this.#expect(':');
      } else {
        do {
          this.#expect('case');
          cases.push(this.#value());
          this.#expect(':');
        } while (this.#peek()?.text === 'case');
      }
      const decl = this.#decl();
      this.#expect(';');
      arms.push({ cases, decl });
    }
    return { discriminant, arms };
  }

  #typeSpec(): TypeSpec {
    const t = this.#ident();
    switch (t) {
      case 'unsigned': {
        const nx = this.#peek()?.text;
        if (nx === 'int' || nx === 'hyper' || nx === 'char' || nx === 'short' || nx === 'long') {
          this.#pos++;
          const map: Record<string, Prim> = { int: 'uint', long: 'uint', hyper: 'uhyper', char: 'uchar', short: 'ushort' };
          return { kind: 'prim', name: map[nx]! };
        }
        return { kind: 'prim', name: 'uint' };
      }
      case 'int':
      case 'long':
        return { kind: 'prim', name: 'int' };
      case 'hyper':
      case 'float':
      case 'double':
      case 'bool':
      case 'char':
      case 'short':
        return { kind: 'prim', name: t };
      case 'enum':
        return { kind: 'enum', body: this.#enumBody() };
      case 'struct':
        return { kind: 'struct', body: this.#structBody() };
      case 'union':
        return { kind: 'union', body: this.#unionBody() };
      default:
        return { kind: 'named', name: t };
    }
  }

  #decl(): Decl {
    if (this.#accept('void')) return { shape: 'void' };
    if (this.#accept('opaque')) {
      const name = this.#ident();
      if (this.#accept('[')) {
        const size = this.#value();
        this.#expect(']');
        return { shape: 'fixed-opaque', name, size };
      }
      return { shape: 'var-opaque', name, ...this.#bound() };
    }
    if (this.#accept('string')) {
      const name = this.#ident();
      return { shape: 'string', name, ...this.#bound() };
    }
    const type = this.#typeSpec();
    if (this.#accept('*')) return { shape: 'optional', name: this.#ident(), type };
    const name = this.#ident();
    if (this.#accept('[')) {
      const size = this.#value();
      this.#expect(']');
      return { shape: 'fixed', name, type, size };
    }
    if (this.#peek()?.text === '<') return { shape: 'var', name, type, ...this.#bound() };
    return { shape: 'plain', name, type };
  }

  #bound(): { size?: Value } {
    this.#expect('<');
    if (this.#accept('>')) return {};
    const size = this.#value();
    this.#expect('>');
    return { size };
  }
}

/** Parses one `.x` file into its definitions, in file order. */
export function parseXdr(src: string, file = 'input.x'): Definition[] {
  return new Parser(tokenize(src, file), file).parse();
}
