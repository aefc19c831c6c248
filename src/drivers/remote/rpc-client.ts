/**
 * The client side of libvirt's RPC on one stream: numbered calls matched to their replies (in any
 * order), event messages handed to a callback, keepalive answered and, once the server supports it,
 * sent when the line is idle. When the stream ends, every pending call fails with libvirt's
 * "End of file" error.
 */
import type { Duplex } from 'node:stream';
import { ErrorCode, VirtError } from '../../errors.js';
import type { Codec, ProcedureInfo } from '../../rpc/codec.js';
import { voidCodec } from '../../rpc/codec.js';
import { KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION, KeepaliveProcedure } from '../../rpc/generated/keepalive-protocol.js';
import { decRemoteError, REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION } from '../../rpc/generated/remote-protocol.js';
import { VirNetMessageStatus as Status, VirNetMessageType as Type } from '../../rpc/generated/virnet-protocol.js';
import { decodeFrame, encodeFrame, type Frame, FrameReader } from '../../rpc/message.js';
import { fromWireError, VIR_FROM_RPC } from '../../rpc/wire.js';
import type { XdrReader } from '../../rpc/xdr.js';

interface Pending {
  codec: Codec<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export type EventHandler = (proc: number, payload: XdrReader) => void;

export class RpcClient {
  readonly #stream: Duplex;
  readonly #reader = new FrameReader();
  readonly #pending = new Map<number, Pending>();
  #serial = 0;
  #closedError: VirtError | undefined;
  #onEvent: EventHandler = () => undefined;
  #onClose: ((err: VirtError) => void) | undefined;
  #lastRx = Date.now();
  #keepalive: NodeJS.Timeout | undefined;
  #unanswered = 0;

  constructor(stream: Duplex, describe: () => string = () => '') {
    this.#stream = stream;
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('error', (err: NodeJS.ErrnoException) => {
      const what = err.code === 'EPIPE' ? 'Cannot write data: Broken pipe' : err.code === 'ECONNRESET' ? 'Cannot recv data: Connection reset by peer' : `Cannot recv data: ${err.message}`;
      this.#fail(new VirtError(ErrorCode.SYSTEM_ERROR, what, { domain: VIR_FROM_RPC }));
    });
    stream.on('close', () => {
      const extra = describe();
      this.#fail(new VirtError(ErrorCode.SYSTEM_ERROR, `End of file while reading data: Input/output error${extra ? `: ${extra}` : ''}`, { domain: VIR_FROM_RPC }));
    });
  }

  get closed(): boolean {
    return this.#closedError !== undefined;
  }

  onEvent(handler: EventHandler): void {
    this.#onEvent = handler;
  }

  onClose(handler: (err: VirtError) => void): void {
    this.#onClose = handler;
  }

  /** Calls `proc` and resolves to its decoded return value, or rejects with the server's error. */
  call<A, R>(proc: ProcedureInfo<A, R>, args: A): Promise<R> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    const serial = ++this.#serial >>> 0;
    let frame: Buffer;
    try {
      frame = encodeFrame({ prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc: proc.proc, type: Type.CALL, serial, status: Status.OK }, proc.args, args);
    } catch (err) {
      return Promise.reject(new VirtError(ErrorCode.INVALID_ARG, `cannot encode ${proc.name} call: ${(err as Error).message}`, { domain: VIR_FROM_RPC }));
    }
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(serial, { codec: proc.ret as Codec<unknown>, resolve: resolve as (v: unknown) => void, reject });
      this.#stream.write(frame);
    });
  }

  /** Sends a PING when nothing arrived for `intervalMs`; gives up after `count` unanswered. */
  startKeepalive(intervalMs: number, count: number): void {
    if (this.#keepalive || intervalMs <= 0) return;
    this.#keepalive = setInterval(() => {
      if (Date.now() - this.#lastRx < intervalMs) return;
      if (this.#unanswered >= count) {
        this.#fail(new VirtError(ErrorCode.SYSTEM_ERROR, 'connection closed due to keepalive timeout', { domain: VIR_FROM_RPC }));
        this.#stream.destroy();
        return;
      }
      this.#unanswered++;
      this.#sendKeepalive(KeepaliveProcedure.PING);
    }, intervalMs);
    this.#keepalive.unref();
  }

  #sendKeepalive(proc: number): void {
    if (this.#closedError) return;
    this.#stream.write(encodeFrame({ prog: KEEPALIVE_PROGRAM, vers: KEEPALIVE_PROTOCOL_VERSION, proc, type: Type.MESSAGE, serial: 0, status: Status.OK }, voidCodec, undefined));
  }

  /** Ends the stream (after the caller's CONNECT_CLOSE). */
  end(): void {
    if (this.#keepalive) clearInterval(this.#keepalive);
    this.#stream.end();
  }

  #onData(chunk: Buffer): void {
    this.#lastRx = Date.now();
    this.#unanswered = 0;
    let frames: Buffer[];
    try {
      frames = this.#reader.push(chunk);
    } catch (err) {
      this.#fail(new VirtError(ErrorCode.INTERNAL_ERROR, `malformed packet from the server: ${(err as Error).message}`, { domain: VIR_FROM_RPC }));
      this.#stream.destroy();
      return;
    }
    for (const f of frames) this.#onFrame(decodeFrame(f));
  }

  #onFrame(f: Frame): void {
    const h = f.header;
    if (h.prog === KEEPALIVE_PROGRAM) {
      if (h.proc === KeepaliveProcedure.PING) this.#sendKeepalive(KeepaliveProcedure.PONG);
      return;
    }
    if (h.prog !== REMOTE_PROGRAM) return;
    if (h.type === Type.MESSAGE) {
      try {
        this.#onEvent(h.proc, f.payload);
      } catch {
        // An event that does not decode is dropped; calls go on.
      }
      return;
    }
    if (h.type !== Type.REPLY) return;
    const p = this.#pending.get(h.serial);
    if (!p) return;
    this.#pending.delete(h.serial);
    try {
      if (h.status === Status.OK) {
        const v = p.codec.decode(f.payload);
        f.payload.end();
        p.resolve(v);
      } else {
        p.reject(fromWireError(decRemoteError(f.payload)));
      }
    } catch (err) {
      p.reject(new VirtError(ErrorCode.INTERNAL_ERROR, `malformed reply from the server: ${(err as Error).message}`, { domain: VIR_FROM_RPC }));
    }
  }

  #fail(err: VirtError): void {
    if (this.#closedError) return;
    this.#closedError = err;
    if (this.#keepalive) clearInterval(this.#keepalive);
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#onClose?.(err);
  }
}
