/**
 * Turns the definitions of one `.x` file into a TypeScript module: its constants, its enums, and for
 * the types reachable from the chosen procedures (and extra roots) an interface plus an encoder and
 * a decoder; then one descriptor per chosen procedure (argument/return codecs, `@priority`, `@acl`)
 * and the public API name of every procedure. Part of the table generator; never used at run time.
 */
import type { Decl, Definition, EnumMember, Prim, TypeSpec, UnionBody, Value } from './xdr-syntax.js';

export interface ProtocolInput {
  /** Path shown in the header comment, e.g. `src/remote/remote_protocol.x`. */
  source: string;
  defs: Definition[];
  /** The enum listing the program's procedures, e.g. `remote_procedure`. */
  procedureEnum?: string;
  /** Prefix of its members, e.g. `REMOTE_PROC_`. */
  procedurePrefix?: string;
  /** Prefix of argument/return/message structs, e.g. `remote_` (+ `domain_get_xml_desc_args`). */
  structPrefix?: string;
  /** Procedures (names without prefix) that get typed codecs and a descriptor. */
  procedures?: readonly string[];
  /** Further types that get codecs (e.g. `remote_error`). */
  types?: readonly string[];
  /** Name of the exported procedure table, e.g. `remoteProcedures`. */
  tableName?: string;
  /** Constants the file uses but does not define (from libvirt's headers). */
  external: ReadonlyMap<string, number>;
  /** Public API function names by lower-case spelling, for the API-name table. */
  functions?: ReadonlyMap<string, string>;
  /** Libvirt version the corpus comes from, for the header comment. */
  version: string;
}

export class GenerateError extends Error {
  override name = 'GenerateError';
}

export function pascal(cName: string): string {
  return cName
    .split('_')
    .filter((p) => p !== '')
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

function camelApi(procName: string): string {
  return `vir${procName
    .toLowerCase()
    .split('_')
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('')}`;
}

/** Member names without their common `XXX_` prefix when that leaves valid identifiers. */
function enumKeys(members: EnumMember[]): string[] {
  const names = members.map((m) => m.name);
  if (names.length < 2) return names;
  let prefix = names[0]!;
  for (const n of names) while (!n.startsWith(prefix)) prefix = prefix.slice(0, -1);
  prefix = prefix.slice(0, prefix.lastIndexOf('_') + 1);
  const keys = names.map((n) => n.slice(prefix.length));
  return keys.every((k) => /^[A-Za-z_]\w*$/.test(k)) ? keys : names;
}

function annotations(doc: string | undefined): { priority: 'high' | 'low'; acl: string[] } {
  const acl: string[] = [];
  let priority: 'high' | 'low' = 'low';
  for (const m of (doc ?? '').matchAll(/@(\w+):\s*(\S+)/g)) {
    if (m[1] === 'acl' && m[2] !== 'none') acl.push(m[2]!);
    if (m[1] === 'priority' && m[2] === 'high') priority = 'high';
  }
  return { priority, acl };
}

class Emitter {
  readonly #types = new Map<string, Definition>();
  readonly #consts = new Map<string, Value>();
  readonly #emitted = new Set<string>();
  readonly #out: string[] = [];

  constructor(readonly input: ProtocolInput) {
    for (const d of input.defs) {
      if (d.kind === 'const') this.#consts.set(d.name, d.value);
      else this.#types.set(d.name, d);
      if (d.kind === 'enum') for (const m of d.body) this.#consts.set(m.name, m.value);
    }
  }

  num(v: Value | undefined, what: string): number {
    if (v === undefined) return 0xffffffff;
    const seen = new Set<string>();
    let cur: Value = v;
    while (typeof cur === 'string') {
      if (seen.has(cur)) throw new GenerateError(`${what}: constant ${cur} refers to itself`);
      seen.add(cur);
      const local = this.#consts.get(cur);
      if (local !== undefined) {
        cur = local;
        continue;
      }
      const ext = this.input.external.get(cur);
      if (ext === undefined) throw new GenerateError(`${what}: constant ${cur} is defined neither in ${this.input.source} nor in libvirt's headers`);
      cur = ext;
    }
    return cur;
  }

  #isEnum(t: TypeSpec): boolean {
    if (t.kind === 'enum') return true;
    if (t.kind !== 'named') return false;
    const def = this.#types.get(t.name);
    if (!def) throw new GenerateError(`unknown type ${t.name}`);
    if (def.kind === 'enum') return true;
    return def.kind === 'typedef' && def.decl.shape === 'plain' && this.#isEnum(def.decl.type);
  }

  #require(name: string): void {
    if (this.#emitted.has(name)) return;
    const def = this.#types.get(name);
    if (!def) throw new GenerateError(`unknown type ${name} in ${this.input.source}`);
    this.#emitted.add(name);
    if (def.kind === 'enum') return;
    const deps: string[] = [];
    const collect = (decl: Decl): void => {
      if ('type' in decl) {
        if (decl.type.kind === 'named' && !this.#isEnum(decl.type)) deps.push(decl.type.name);
        if (decl.type.kind === 'struct' || decl.type.kind === 'union') throw new GenerateError(`inline ${decl.type.kind} in ${name} is not supported`);
      }
    };
    if (def.kind === 'typedef') collect(def.decl);
    if (def.kind === 'struct') def.body.forEach(collect);
    if (def.kind === 'union') {
      collect(def.body.discriminant);
      for (const a of def.body.arms) collect(a.decl);
    }
    for (const d of deps) this.#require(d);
    this.#emitType(def);
  }

  #primTs(p: Prim): string {
    if (p === 'hyper' || p === 'uhyper') return 'bigint';
    if (p === 'bool') return 'boolean';
    return 'number';
  }

  #tsType(decl: Exclude<Decl, { shape: 'void' }>): string {
    if (decl.shape === 'string') return 'string';
    if (decl.shape === 'fixed-opaque' || decl.shape === 'var-opaque') return 'Buffer';
    const t = (decl as { type: TypeSpec }).type;
    const base = this.#isEnum(t) ? 'number' : t.kind === 'prim' ? this.#primTs(t.name) : pascal((t as { name: string }).name);
    if (decl.shape === 'optional') return `${base} | null`;
    if (decl.shape === 'fixed' || decl.shape === 'var') return base.includes(' ') ? `(${base})[]` : `${base}[]`;
    return base;
  }

  /** Expression decoding one value of `t` from reader `r`. */
  #decPlain(t: TypeSpec, what: string): string {
    if (this.#isEnum(t)) return 'r.int()';
    if (t.kind === 'prim') {
      switch (t.name) {
        case 'char':
          return '(r.int() << 24) >> 24';
        case 'uchar':
          return 'r.uint() & 0xff';
        case 'short':
          return '(r.int() << 16) >> 16';
        case 'ushort':
          return 'r.uint() & 0xffff';
        default:
          return `r.${t.name}()`;
      }
    }
    if (t.kind === 'named') return `dec${pascal(t.name)}(r)`;
    throw new GenerateError(`${what}: unsupported inline type`);
  }

  #encPlain(t: TypeSpec, v: string, what: string): string {
    if (this.#isEnum(t)) return `w.int(${v})`;
    if (t.kind === 'prim') {
      switch (t.name) {
        case 'char':
        case 'short':
          return `w.int(${v})`;
        case 'uchar':
        case 'ushort':
          return `w.uint(${v})`;
        default:
          return `w.${t.name}(${v})`;
      }
    }
    if (t.kind === 'named') return `enc${pascal(t.name)}(w, ${v})`;
    throw new GenerateError(`${what}: unsupported inline type`);
  }

  #dec(decl: Exclude<Decl, { shape: 'void' }>, what: string): string {
    switch (decl.shape) {
      case 'string':
        return `r.string(${this.num(decl.size, what)})`;
      case 'fixed-opaque':
        return `r.fixedOpaque(${this.num(decl.size, what)})`;
      case 'var-opaque':
        return `r.opaque(${this.num(decl.size, what)})`;
      case 'plain':
        return this.#decPlain(decl.type, what);
      case 'optional':
        return `r.present() ? ${this.#decPlain(decl.type, what)} : null`;
      case 'fixed':
        return `r.fixedArray(${this.num(decl.size, what)}, (r) => ${this.#decPlain(decl.type, what)})`;
      case 'var':
        return `r.array(${this.num(decl.size, what)}, (r) => ${this.#decPlain(decl.type, what)})`;
    }
  }

  /** Statement encoding `v` as `decl` to writer `w`. */
  #enc(decl: Exclude<Decl, { shape: 'void' }>, v: string, what: string): string {
    switch (decl.shape) {
      case 'string':
        return `w.string(${v}, ${this.num(decl.size, what)});`;
      case 'fixed-opaque':
        return `w.fixedOpaque(${v}, ${this.num(decl.size, what)});`;
      case 'var-opaque':
        return `w.opaque(${v}, ${this.num(decl.size, what)});`;
      case 'plain':
        return `${this.#encPlain(decl.type, v, what)};`;
      case 'optional':
        return `w.bool(${v} !== null);\n  if (${v} !== null) ${this.#encPlain(decl.type, v, what)};`;
      case 'fixed':
        return `w.fixedArray(${v}, ${this.num(decl.size, what)}, (w, x) => ${this.#encPlain(decl.type, 'x', what)});`;
      case 'var':
        return `w.array(${v}, ${this.num(decl.size, what)}, (w, x) => ${this.#encPlain(decl.type, 'x', what)});`;
    }
  }

  #emitType(def: Definition): void {
    const ts = pascal(def.name);
    const o = this.#out;
    if (def.kind === 'typedef') {
      const decl = def.decl as Exclude<Decl, { shape: 'void' }>;
      o.push(`export type ${ts} = ${this.#tsType(decl)};`);
      o.push(`export function enc${ts}(w: XdrWriter, v: ${ts}): void {\n  ${this.#enc(decl, 'v', def.name)}\n}`);
      o.push(`export function dec${ts}(r: XdrReader): ${ts} {\n  return ${this.#dec(decl, def.name)};\n}`);
    } else if (def.kind === 'struct') {
      const fields = def.body.filter((d): d is Exclude<Decl, { shape: 'void' }> => d.shape !== 'void');
      o.push(`export interface ${ts} {\n${fields.map((f) => `  ${f.name}: ${this.#tsType(f)};`).join('\n')}\n}`);
      const enc = fields.map((f) => `  ${this.#enc(f, `v.${f.name}`, `${def.name}.${f.name}`)}`).join('\n');
      o.push(`export function enc${ts}(w: XdrWriter, v: ${ts}): void {\n${enc}\n}`);
      const dec = fields.map((f) => `    ${f.name}: ${this.#dec(f, `${def.name}.${f.name}`)},`).join('\n');
      o.push(`export function dec${ts}(r: XdrReader): ${ts} {\n  return {\n${dec}\n  };\n}`);
    } else if (def.kind === 'union') {
      this.#emitUnion(def.name, def.body);
    }
  }

  #emitUnion(name: string, body: UnionBody): void {
    const ts = pascal(name);
    const disc = body.discriminant;
    if (disc.shape !== 'plain') throw new GenerateError(`${name}: discriminant must be a plain value`);
    const dName = disc.name;
    const variants: string[] = [];
    const encCases: string[] = [];
    const decCases: string[] = [];
    let defaultArm: Decl | undefined;
    for (const arm of body.arms) {
      if (arm.cases.length === 0) {
        defaultArm = arm.decl;
        continue;
      }
      const labels = arm.cases.map((c) => this.num(c, `${name} case`));
      const field = arm.decl.shape === 'void' ? '' : ` ${arm.decl.name}: ${this.#tsType(arm.decl)};`;
      variants.push(`{ ${dName}: ${labels.join(' | ')};${field} }`);
      const encBody = arm.decl.shape === 'void' ? '' : `\n      ${this.#enc(arm.decl, `v.${arm.decl.name}`, name)}`;
      encCases.push(`${labels.map((l) => `    case ${l}:`).join('\n')}\n      ${this.#encPlain(disc.type, `v.${dName}`, name)};${encBody}\n      return;`);
      const decField = arm.decl.shape === 'void' ? '' : `, ${arm.decl.name}: ${this.#dec(arm.decl, name)}`;
      decCases.push(`${labels.map((l) => `    case ${l}:`).join('\n')}\n      return { ${dName}: d${decField} } as ${ts};`);
    }
    if (defaultArm) {
      const field = defaultArm.shape === 'void' ? '' : ` ${defaultArm.name}: ${this.#tsType(defaultArm)};`;
      variants.push(`{ ${dName}: number;${field} }`);
    }
    const encDefault = defaultArm
      ? `    default:\n      ${this.#encPlain(disc.type, `v.${dName}`, name)};${defaultArm.shape === 'void' ? '' : `\n      ${this.#enc(defaultArm, `(v as { ${defaultArm.name}: never }).${defaultArm.name}`, name)}`}\n      return;`
      : `    default:\n      throw new XdrError(\`${name}: no arm for discriminant \${v.${dName}}\`);`;
    const decDefault = defaultArm
      ? `    default:\n      return { ${dName}: d${defaultArm.shape === 'void' ? '' : `, ${defaultArm.name}: ${this.#dec(defaultArm, name)}`} } as ${ts};`
      : `    default:\n      throw new XdrError(\`${name}: no arm for discriminant \${d}\`);`;
    this.#out.push(`export type ${ts} =\n  | ${variants.join('\n  | ')};`);
    this.#out.push(`export function enc${ts}(w: XdrWriter, v: ${ts}): void {\n  switch (v.${dName}) {\n${encCases.join('\n')}\n${encDefault}\n  }\n}`);
    this.#out.push(`export function dec${ts}(r: XdrReader): ${ts} {\n  const d = ${this.#decPlain(disc.type, name)};\n  switch (d) {\n${decCases.join('\n')}\n${decDefault}\n  }\n}`);
  }

  #codecFor(structName: string | undefined): string {
    if (!structName) return 'voidCodec';
    this.#require(structName);
    const ts = pascal(structName);
    return `{ encode: enc${ts}, decode: dec${ts} } as Codec<${ts}>`;
  }

  generate(): string {
    const inp = this.input;
    const o = this.#out;
    const head: string[] = [
      `// Generated by scripts/gen-rpc.ts from libvirt ${inp.version}'s ${inp.source}. Do not edit: run \`npm run gen:rpc\`.`,
      `// Facts (numbers, names, layouts) come from the protocol definition; the code is virtkit's own.`,
    ];
    // Constants: the file's own, then the external ones it uses.
    const consts = inp.defs.filter((d): d is Extract<Definition, { kind: 'const' }> => d.kind === 'const');
    const literal = (c: { name: string; value: Value }): string => {
      const v = this.num(c.value, c.name);
      return c.name.endsWith('_PROGRAM') ? `0x${v.toString(16)}` : String(v);
    };
    if (consts.length) o.push(consts.map((c) => `export const ${c.name} = ${literal(c)};`).join('\n'));
    for (const d of inp.defs) {
      if (d.kind !== 'enum') continue;
      const keys = enumKeys(d.body);
      const members = d.body.map((m, i) => `  ${keys[i]}: ${this.num(m.value, `${d.name}.${m.name}`)},`).join('\n');
      o.push(`/** ${d.name} */\nexport const ${pascal(d.name)} = {\n${members}\n} as const;`);
    }
    for (const t of inp.types ?? []) this.#require(t);

    if (inp.procedureEnum) {
      const penum = inp.defs.find((d) => d.kind === 'enum' && d.name === inp.procedureEnum) as Extract<Definition, { kind: 'enum' }> | undefined;
      if (!penum) throw new GenerateError(`no enum ${inp.procedureEnum} in ${inp.source}`);
      const prefix = inp.procedurePrefix ?? '';
      const byName = new Map(penum.body.map((m) => [m.name.slice(prefix.length), m]));
      const table: string[] = [];
      for (const p of inp.procedures ?? []) {
        const m = byName.get(p);
        if (!m) throw new GenerateError(`procedure ${prefix}${p} is not in ${inp.source}`);
        const base = `${inp.structPrefix ?? ''}${p.toLowerCase()}`;
        const has = (suffix: string): string | undefined => (this.#types.has(`${base}_${suffix}`) ? `${base}_${suffix}` : undefined);
        const args = has('args') ?? has('msg');
        const { priority, acl } = annotations(m.doc);
        table.push(
          `  ${p}: {\n    proc: ${this.num(m.value, p)},\n    name: '${p}',\n    args: ${this.#codecFor(args)},\n    ret: ${this.#codecFor(has('ret'))},\n    priority: '${priority}',\n    acl: [${acl.map((a) => `'${a}'`).join(', ')}],\n  },`,
        );
      }
      o.push(`/** Descriptors of the procedures virtkit implements (src/rpc/gen/selection.ts). */\nexport const ${inp.tableName ?? 'procedures'} = {\n${table.join('\n')}\n} as const;`);
      if (inp.functions) {
        const names: string[] = [];
        for (const m of penum.body) {
          const api = inp.functions.get(camelApi(m.name.slice(prefix.length)).toLowerCase());
          if (api) names.push(`  ${this.num(m.value, m.name)}: '${api}',`);
        }
        o.push(`/** Public API each procedure stands for, where libvirt's headers declare one. */\nexport const ${inp.tableName ?? 'procedures'}Api: Readonly<Record<number, string>> = {\n${names.join('\n')}\n};`);
      }
    }
    const body = o.join('\n\n');
    const imports: string[] = [];
    const usesCodec = /\bCodec</.test(body);
    const usesVoid = /\bvoidCodec\b/.test(body);
    if (usesCodec || usesVoid) imports.push(`import { ${[usesCodec && 'type Codec', usesVoid && 'voidCodec'].filter(Boolean).join(', ')} } from '../codec.js';`);
    const xdrValues = /XdrError/.test(body) ? ['XdrError'] : [];
    const xdrTypes = ['XdrReader', 'XdrWriter'].filter((n) => new RegExp(`\\b${n}\\b`).test(body));
    if (xdrValues.length && xdrTypes.length) imports.push(`import { ${[...xdrValues, ...xdrTypes.map((t) => `type ${t}`)].join(', ')} } from '../xdr.js';`);
    else if (xdrValues.length) imports.push(`import { ${xdrValues.join(', ')} } from '../xdr.js';`);
    else if (xdrTypes.length) imports.push(`import type { ${xdrTypes.join(', ')} } from '../xdr.js';`);
    return `${head.join('\n')}\n${imports.length ? `${imports.join('\n')}\n` : ''}\n${body}\n`;
  }
}

/** The TypeScript module for one protocol file. */
export function emitProtocol(input: ProtocolInput): string {
  return new Emitter(input).generate();
}
