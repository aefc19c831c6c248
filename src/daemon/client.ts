/**
 * One client of virtkitd: frames in, calls dispatched (several at once, up to a bound; reading
 * pauses beyond it), replies and event messages out through a bounded queue, keepalive both ways.
 *
 * A client can only hurt itself: a packet that breaks framing or does not decode closes this
 * connection (after an error reply when there is a call to answer), a client that stops reading is
 * dropped once its queue passes the bound, one that stops answering pings is dropped after the
 * keepalive count. Node serves every socket from one event loop without blocking, so none of this
 * stalls the other clients.
 */
import type { Socket } from 'node:net';
import { ErrorCode, VirtError, virtError } from '../errors.js';
import type { Codec, ProcedureInfo } from '../rpc/codec.js';
import { KEEPALIVE_PROGRAM, KEEPALIVE_PROTOCOL_VERSION, KeepaliveProcedure } from '../rpc/generated/keepalive-protocol.js';
import { REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, remoteProceduresApi } from '../rpc/generated/remote-protocol.js';
import { VirNetMessageStatus as Status, VirNetMessageType as Type } from '../rpc/generated/virnet-protocol.js';
import { voidCodec } from '../rpc/codec.js';
import { encRemoteError } from '../rpc/generated/remote-protocol.js';
import { decodeFrame, encodeFrame, type Header, FrameReader, MAX_FRAME } from '../rpc/message.js';
import { rpcError, toWireError, VIR_FROM_RPC } from '../rpc/wire.js';
import { XdrError, XdrWriter } from '../rpc/xdr.js';
import type { CallContext } from './context.js';
import type { Handler, HandlerTable } from './dispatch.js';
import type { DriverHost, Lease } from './drivers.js';
import { EventCallbacks } from './event-callbacks.js';
import type { Logger } from './log.js';

export interface ClientLimits {
  /** Calls served at once for one client; reading pauses beyond (libvirt: max_client_requests). */
  maxInflight: number;
  /** Bytes queued for a client that does not read, before it is dropped. */
  maxQueuedBytes: number;
  /** Largest frame accepted or sent. */
  maxFrame: number;
  /** Idle time before the daemon pings a client that asked for keepalive (0: never). */
  keepaliveIntervalMs: number;
  /** Unanswered pings before the client is considered dead. */
  keepaliveCount: number;
}

export const DEFAULT_LIMITS: ClientLimits = {
  maxInflight: 8,
  maxQueuedBytes: 16 * 1024 * 1024,
  maxFrame: MAX_FRAME,
  keepaliveIntervalMs: 5000,
  keepaliveCount: 5,
};

/** VIR_CONNECT_RO */
const CONNECT_RO = 1;
/** libvirt's keepalive feature number (VIR_DRV_FEATURE_PROGRAM_KEEPALIVE). */
const FEATURE_KEEPALIVE = 10;
const PROC_SUPPORTS_FEATURE = 60;
const errorCodec: Codec<ReturnType<typeof toWireError>> = { encode: encRemoteError, decode: () => undefined as never };
const READ_PERMISSIONS = new Set(['getattr', 'read', 'search_domains', 'read_secure']);
/** The output writer's usual size: a domain's XML fits; a larger one it grew to is given back after use. */
const OUT_CAPACITY = 16 * 1024;

/** libvirtd's answer to a call that needs an open connection before CONNECT_OPEN. */
function notOpen(): VirtError {
  return virtError(ErrorCode.INTERNAL_ERROR, 'hypervisor connection not open', VIR_FROM_RPC);
}

/** A procedure changes state when it needs any permission beyond reading (its unconditional @acl entries). */
export function isWriteProcedure(info: ProcedureInfo): boolean {
  return info.acl.some((a) => {
    const [, perm, flag] = a.split(':');
    return flag === undefined && !READ_PERMISSIONS.has(perm ?? '');
  });
}

export interface ClientInfo {
  /** `unix:/path` or `tcp:addr:port`, for logs. */
  peer: string;
  readOnly: boolean;
  secure: boolean;
}

export class DaemonClient {
  readonly #socket: Socket;
  readonly #host: DriverHost;
  readonly #table: HandlerTable;
  readonly #limits: ClientLimits;
  readonly #log: Logger;
  readonly #info: ClientInfo;
  readonly #reader: FrameReader;
  readonly #events: EventCallbacks;
  /** Every message to this client is encoded here, then written at once (see #encode). */
  readonly #out = new XdrWriter(OUT_CAPACITY);
  #lease: Lease | undefined;
  #connReadOnly = false;
  #inflight = 0;
  #closed = false;
  /** Set once the connection is being closed after a protocol violation: nothing more is read. */
  #closing = false;
  #keepaliveTimer: NodeJS.Timeout | undefined;
  #lastRx = Date.now();
  #unansweredPings = 0;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(socket: Socket, host: DriverHost, table: HandlerTable, limits: ClientLimits, log: Logger, info: ClientInfo) {
    this.#socket = socket;
    this.#host = host;
    this.#table = table;
    this.#limits = limits;
    this.#log = log;
    this.#info = info;
    this.#reader = new FrameReader(limits.maxFrame);
    this.#events = new EventCallbacks((proc, body) => this.#message(proc, body));
    this.#done = new Promise((r) => {
      this.#resolveDone = r;
    });
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#log.debug(`${info.peer}: socket error: ${err.message}`));
    socket.on('close', () => void this.#cleanup());
  }

  /** Resolves once the connection is closed and its driver released. */
  get done(): Promise<void> {
    return this.#done;
  }

  get peer(): string {
    return this.#info.peer;
  }

  /** Closes the connection; `reason` is logged as an error. */
  close(reason?: string): void {
    if (reason) this.#log.error(`${this.#info.peer}: closing connection: ${reason}`);
    this.#socket.destroy();
  }

  async #cleanup(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#keepaliveTimer) clearInterval(this.#keepaliveTimer);
    try {
      await this.#releaseDriver();
    } catch (err) {
      this.#log.error(`${this.#info.peer}: closing its driver failed: ${(err as Error).message}`);
    }
    this.#resolveDone();
  }

  async #releaseDriver(): Promise<void> {
    const lease = this.#lease;
    this.#lease = undefined;
    await this.#events.clear();
    await lease?.release();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed || this.#closing) return;
    this.#lastRx = Date.now();
    let frames: Buffer[];
    try {
      frames = this.#reader.push(chunk);
    } catch (err) {
      this.close(`malformed packet: ${(err as Error).message}`);
      return;
    }
    for (const f of frames) {
      if (this.#closed || this.#closing || this.#socket.destroyed) return;
      this.#onFrame(f);
    }
  }

  #onFrame(bytes: Buffer): void {
    const { header: h, payload } = decodeFrame(bytes);
    if (h.prog === KEEPALIVE_PROGRAM) {
      if (h.vers !== KEEPALIVE_PROTOCOL_VERSION || h.type !== Type.MESSAGE || payload.remaining !== 0) {
        this.close(`malformed keepalive message (version ${h.vers}, type ${h.type}, procedure ${h.proc})`);
      } else if (h.proc === KeepaliveProcedure.PING) {
        this.#send({ ...h, proc: KeepaliveProcedure.PONG, serial: 0 }, voidCodec, undefined);
      } else if (h.proc === KeepaliveProcedure.PONG) {
        this.#unansweredPings = 0;
      } else {
        this.close(`unknown keepalive procedure ${h.proc}`);
      }
      return;
    }
    if (h.type !== Type.CALL && h.type !== Type.CALL_WITH_FDS) {
      // virtkitd has no streams; a reply or message from a client breaks the protocol.
      this.close(`unexpected message type ${h.type} (program ${h.prog}, procedure ${h.proc})`);
      return;
    }
    if (h.prog !== REMOTE_PROGRAM || h.vers !== REMOTE_PROTOCOL_VERSION) {
      this.#replyError(h, rpcError(`Cannot find program ${h.prog} version ${h.vers}`));
      return;
    }
    if (h.status !== Status.OK) {
      this.#replyError(h, rpcError(`Unexpected message status ${h.status}`), true);
      return;
    }
    if (h.type === Type.CALL_WITH_FDS) {
      this.#replyError(h, virtError(ErrorCode.NO_SUPPORT, 'file descriptor passing: virtkitd accepts no file descriptors'));
      return;
    }
    const handler = this.#table.get(h.proc);
    if (!handler) {
      const api = remoteProceduresApi[h.proc];
      this.#replyError(h, api ? virtError(ErrorCode.NO_SUPPORT, api) : rpcError(`unknown procedure: ${h.proc}`));
      return;
    }
    let args: unknown;
    try {
      args = handler.info.args.decode(payload);
      payload.end();
    } catch (err) {
      if (!(err instanceof XdrError)) throw err;
      this.#log.debug(`${this.#info.peer}: undecodable ${handler.info.name} payload: ${err.message}`);
      this.#replyError(h, rpcError('Unable to decode message payload'), true);
      return;
    }
    this.#dispatch(h, handler, args);
  }

  #dispatch(h: Header, handler: Handler, args: unknown): void {
    if (!handler.beforeOpen && !this.#lease) {
      this.#replyError(h, notOpen());
      return;
    }
    if (this.#lease && (this.#info.readOnly || this.#connReadOnly) && isWriteProcedure(handler.info)) {
      const api = remoteProceduresApi[h.proc] ?? handler.info.name;
      this.#replyError(h, virtError(ErrorCode.OPERATION_DENIED, `read only access prevents ${api}`));
      return;
    }
    if (h.proc === PROC_SUPPORTS_FEATURE && (args as { feature: number }).feature === FEATURE_KEEPALIVE) this.#startKeepalive();
    if (++this.#inflight >= this.#limits.maxInflight) this.#socket.pause();
    const done = (): void => {
      if (--this.#inflight < this.#limits.maxInflight && !this.#closed && !this.#closing) this.#socket.resume();
    };
    let out: unknown;
    try {
      out = handler.run(this.#context, args as never);
    } catch (err) {
      this.#replyError(h, err);
      done();
      return;
    }
    if (out instanceof Promise) {
      out.then(
        (ret) => {
          this.#reply(h, handler.info.ret, ret);
          done();
        },
        (err: unknown) => {
          this.#replyError(h, err);
          done();
        },
      );
    } else {
      this.#reply(h, handler.info.ret, out);
      done();
    }
  }

  readonly #context: CallContext = (() => {
    const self = this;
    return {
      get driver() {
        if (!self.#lease) throw notOpen();
        return self.#lease.driver;
      },
      get uri() {
        if (!self.#lease) throw notOpen();
        return self.#lease.uri;
      },
      get readOnly() {
        return self.#info.readOnly || self.#connReadOnly;
      },
      get secure() {
        return self.#info.secure;
      },
      get events() {
        return self.#events;
      },
      open: (name: string | null, flags: number) => this.#open(name, flags),
      close: () => this.#releaseDriver(),
    };
  })();

  async #open(name: string | null, flags: number): Promise<void> {
    if (this.#lease) throw virtError(ErrorCode.INTERNAL_ERROR, 'connection already open');
    const lease = await this.#host.acquire(name);
    if (this.#closed) {
      await lease.release();
      return;
    }
    this.#lease = lease;
    this.#connReadOnly = (flags & CONNECT_RO) !== 0;
    this.#log.info(`${this.#info.peer}: opened ${lease.uri}${this.#info.readOnly || this.#connReadOnly ? ' (read-only)' : ''}`);
  }

  #startKeepalive(): void {
    const { keepaliveIntervalMs: every, keepaliveCount: count } = this.#limits;
    if (this.#keepaliveTimer || every <= 0) return;
    this.#keepaliveTimer = setInterval(() => {
      if (Date.now() - this.#lastRx < every) return;
      if (this.#unansweredPings >= count) {
        this.close(`no keepalive response in ${(every * (count + 1)) / 1000} s`);
        return;
      }
      this.#unansweredPings++;
      this.#send(
        { prog: KEEPALIVE_PROGRAM, vers: KEEPALIVE_PROTOCOL_VERSION, proc: KeepaliveProcedure.PING, type: Type.MESSAGE, serial: 0, status: Status.OK },
        voidCodec,
        undefined,
      );
    }, every);
    this.#keepaliveTimer.unref();
  }

  /** Replies to call `h` (its header object becomes the reply's). */
  #reply(h: Header, codec: Codec<unknown>, ret: unknown): void {
    h.type = Type.REPLY;
    h.status = Status.OK;
    let frame: Buffer;
    try {
      frame = this.#encode(h, codec, ret);
    } catch (err) {
      this.#replyError(h, err instanceof XdrError ? rpcError(`Unable to encode message payload: ${err.message}`) : err);
      return;
    }
    this.#write(frame);
  }

  /** Sends libvirt's error reply for call `h`; `thenClose` ends the connection once it is written. */
  #replyError(h: Header, err: unknown, thenClose = false): void {
    if (!(err instanceof VirtError)) this.#log.error(`${this.#info.peer}: procedure ${h.proc} failed: ${(err as Error)?.stack ?? err}`);
    this.#send({ ...h, type: Type.REPLY, status: Status.ERROR }, errorCodec, toWireError(err));
    if (thenClose && !this.#closed && !this.#closing) {
      this.#closing = true;
      this.#log.error(`${this.#info.peer}: closing connection: ${err instanceof Error ? err.message : String(err)}`);
      this.#socket.pause();
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), 1000).unref();
    }
  }

  /** An event message (type MESSAGE; libvirtd numbers them with serial 1). */
  #message<A>(proc: ProcedureInfo<A, unknown>, body: A): void {
    this.#send({ prog: REMOTE_PROGRAM, vers: REMOTE_PROTOCOL_VERSION, proc: proc.proc, type: Type.MESSAGE, serial: 1, status: Status.OK }, proc.args, body);
  }

  #send<T>(h: Header, codec: Codec<T>, body: T): void {
    let frame: Buffer;
    try {
      frame = this.#encode(h, codec, body);
    } catch (err) {
      this.#log.error(`${this.#info.peer}: cannot encode message for procedure ${h.proc}: ${(err as Error).message}`);
      return;
    }
    this.#write(frame);
  }

  /** One whole frame in the client's output writer: a view, valid until the next message is encoded. */
  #encode<T>(h: Header, codec: Codec<T>, body: T): Buffer {
    this.#out.reset();
    return encodeFrame(h, codec, body, this.#limits.maxFrame, this.#out);
  }

  /** Writes a frame with one write (the socket has no delay: a reply goes out as soon as it is whole). */
  #write(frame: Buffer): void {
    if (this.#closed || this.#socket.destroyed || !this.#socket.writable) return;
    const queued = this.#socket.writableLength;
    if (queued > 0 && queued + frame.length > this.#limits.maxQueuedBytes) {
      this.close(`client is not reading: ${queued} bytes queued (limit ${this.#limits.maxQueuedBytes})`);
      return;
    }
    this.#socket.write(frame);
    // Bytes the kernel did not take at once stay queued in the socket, as a view of the writer's
    // buffer: the writer then takes a new one. So does a writer that grew for a large message.
    if (this.#socket.writableLength > 0 || this.#out.capacity > OUT_CAPACITY * 4) this.#out.reset(OUT_CAPACITY);
  }
}
