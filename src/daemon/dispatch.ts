/**
 * The daemon's procedure table: for each procedure virtkitd implements, the generated descriptor
 * (argument and return codecs) and the function that serves it. Handlers receive decoded arguments
 * and return the value to encode; whatever they throw becomes libvirt's error reply.
 */
import type { ArgsOf, ProcedureInfo, RetOf } from '../rpc/codec.js';
import type { CallContext } from './context.js';

export interface Handler<P extends ProcedureInfo = ProcedureInfo> {
  info: P;
  /** Served before CONNECT_OPEN (the handshake's auth list, feature probes, open itself). */
  beforeOpen?: boolean;
  run(ctx: CallContext, args: ArgsOf<P>): Promise<RetOf<P>> | RetOf<P>;
}

/** Typed constructor: the handler's argument and return types follow from the descriptor. */
export function handle<P extends ProcedureInfo>(
  info: P,
  run: (ctx: CallContext, args: ArgsOf<P>) => Promise<RetOf<P>> | RetOf<P>,
  opts: { beforeOpen?: boolean } = {},
): Handler {
  return { info, run, ...opts } as unknown as Handler;
}

export class HandlerTable {
  readonly #byProc = new Map<number, Handler>();

  add(...handlers: Handler[]): this {
    for (const h of handlers) {
      if (this.#byProc.has(h.info.proc)) throw new Error(`procedure ${h.info.name} registered twice`);
      this.#byProc.set(h.info.proc, h);
    }
    return this;
  }

  get(proc: number): Handler | undefined {
    return this.#byProc.get(proc);
  }

  get size(): number {
    return this.#byProc.size;
  }
}
