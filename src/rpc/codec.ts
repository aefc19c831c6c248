/** What the generated protocol tables are made of: a codec per XDR type, a descriptor per procedure. */
import type { XdrReader, XdrWriter } from './xdr.js';

export interface Codec<T> {
  encode(w: XdrWriter, v: T): void;
  decode(r: XdrReader): T;
}

/** The codec of `void`: no bytes at all. */
export const voidCodec: Codec<void> = {
  encode() {},
  decode() {},
};

/** One procedure of a program, as its `.x` file declares it. */
export interface ProcedureInfo<A = unknown, R = unknown> {
  /** Procedure number in the program. */
  readonly proc: number;
  /** Name without the program prefix, e.g. `DOMAIN_GET_XML_DESC`. */
  readonly name: string;
  /** Arguments of a call, or the body of an event message. */
  readonly args: Codec<A>;
  readonly ret: Codec<R>;
  /** `@priority` annotation: high-priority calls never wait for the hypervisor. */
  readonly priority: 'high' | 'low';
  /** `@acl` annotations (`object:permission[:flag]`); what a read-only client may not do follows from them. */
  readonly acl: readonly string[];
}

export type ArgsOf<P> = P extends ProcedureInfo<infer A, unknown> ? A : never;
export type RetOf<P> = P extends ProcedureInfo<unknown, infer R> ? R : never;
