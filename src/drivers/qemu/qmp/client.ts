/**
 * A QMP client: one connection to a QEMU monitor (unix socket or any duplex stream, e.g. a child's
 * stdio). Greeting and capability negotiation, commands matched to replies by id, a timeout per
 * command, events to listeners, async iterators and one-shot waiters. When QEMU goes away, every
 * command in flight fails with a VirtError at once; nothing waits for a timeout.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode, ErrorDomain, VirtError, virtError } from '../../../errors.js';
import type { QmpCommandName, QmpCommands, QmpErrorBody, QmpEvent, QmpGreeting } from './protocol.js';

/** A command QEMU answered with an error; `qmpClass` is QEMU's class (GenericError, DeviceNotFound, ...). */
export class QmpCommandError extends VirtError {
  readonly command: string;
  readonly qmpClass: string;
  readonly qmpDesc: string;
  constructor(command: string, body: QmpErrorBody) {
    // libvirt's wording (qemuMonitorJSONCheckError), so messages read as virsh users know them.
    super(ErrorCode.INTERNAL_ERROR, `internal error: unable to execute QEMU command '${command}': ${body.desc}`, {
      domain: ErrorDomain.QEMU,
    });
    this.name = 'QmpCommandError';
    this.command = command;
    this.qmpClass = body.class;
    this.qmpDesc = body.desc;
  }
}

export interface QmpConnectOptions {
  /** How long to keep retrying while the socket does not exist or refuses (QEMU still starting). Default 10000. */
  timeoutMs?: number;
  /** Default per-command timeout. Default 30000. */
  commandTimeoutMs?: number;
  /** Stops connecting early (e.g. QEMU exited). */
  signal?: AbortSignal;
}

export interface ExecuteOptions {
  timeoutMs?: number;
}

export type QmpEventListener = (event: QmpEvent) => void;

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

/** Longest line accepted from QEMU (query-qmp-schema is the largest reply, ~150 KiB on 7.2). */
const MAX_LINE_BYTES = 32 * 1024 * 1024;
const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class QmpClient {
  private readonly stream: Duplex;
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private readonly listeners = new Set<QmpEventListener>();
  private greetingWaiter?: { resolve: (g: QmpGreeting) => void; reject: (e: Error) => void };
  private closeReason?: VirtError;
  private readonly closedPromise: Promise<VirtError>;
  private resolveClosed!: (reason: VirtError) => void;
  private readonly commandTimeoutMs: number;
  /** The greeting QEMU sent (version, capabilities). */
  greeting?: QmpGreeting;

  private constructor(stream: Duplex, commandTimeoutMs: number) {
    this.stream = stream;
    this.commandTimeoutMs = commandTimeoutMs;
    this.closedPromise = new Promise((r) => {
      this.resolveClosed = r;
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    stream.on('error', (err: Error) => this.shutdown(virtError(ErrorCode.OPERATION_FAILED, `QEMU monitor connection failed: ${err.message}`)));
    stream.on('close', () => this.shutdown(virtError(ErrorCode.OPERATION_FAILED, 'QEMU monitor connection closed (QEMU exited?)')));
    stream.on('end', () => this.shutdown(virtError(ErrorCode.OPERATION_FAILED, 'End of file from QEMU monitor')));
  }

  /** Connects to a monitor socket, retrying while QEMU has not created it yet, and negotiates capabilities. */
  static async connect(path: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      options.signal?.throwIfAborted();
      let socket: Socket;
      try {
        socket = await openSocket(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const retry = code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EAGAIN';
        if (!retry || Date.now() >= deadline) {
          throw virtError(ErrorCode.OPERATION_FAILED, `cannot connect to QEMU monitor '${path}': ${(err as Error).message}`);
        }
        // A starting QEMU creates its socket within ~100 ms: look often, a connect attempt is cheap.
        await sleep(2);
        continue;
      }
      return QmpClient.handshake(socket, Math.max(1, deadline - Date.now()), options.commandTimeoutMs);
    }
  }

  /** Speaks QMP over an already open stream (a unix socket, a child process's stdio). */
  static async handshake(stream: Duplex, timeoutMs = 10_000, commandTimeoutMs = DEFAULT_COMMAND_TIMEOUT_MS): Promise<QmpClient> {
    const client = new QmpClient(stream, commandTimeoutMs);
    try {
      // qmp_capabilities goes out with the connection, not a round trip later: QEMU reads it after its greeting.
      const greeting = client.waitGreeting(timeoutMs);
      const negotiated = client.execute('qmp_capabilities', undefined, { timeoutMs });
      negotiated.catch(() => undefined);
      await greeting;
      await negotiated;
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  private waitGreeting(timeoutMs: number): Promise<QmpGreeting> {
    if (this.greeting) return Promise.resolve(this.greeting);
    if (this.closeReason) return Promise.reject(this.closeReason);
    return new Promise<QmpGreeting>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.greetingWaiter = undefined;
        reject(virtError(ErrorCode.OPERATION_TIMEOUT, `no QMP greeting from QEMU within ${timeoutMs} ms`));
      }, timeoutMs);
      this.greetingWaiter = {
        resolve: (g) => {
          clearTimeout(timer);
          resolve(g);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  /** Whether the connection is still usable. */
  get isOpen(): boolean {
    return this.closeReason === undefined;
  }

  /** Resolves (with the reason) once the connection is closed, by either side. */
  get closed(): Promise<VirtError> {
    return this.closedPromise;
  }

  /** Runs a typed command. QEMU's errors become {@link QmpCommandError}. */
  execute<K extends QmpCommandName>(command: K, args?: QmpCommands[K]['args'], options?: ExecuteOptions): Promise<QmpCommands[K]['ret']> {
    return this.executeRaw(command, args as Record<string, unknown> | undefined, options) as Promise<QmpCommands[K]['ret']>;
  }

  /** Runs any command by name. */
  executeRaw(command: string, args?: Record<string, unknown>, options?: ExecuteOptions): Promise<unknown> {
    if (this.closeReason) return Promise.reject(this.failedCommand(command, this.closeReason));
    const id = `vk-${this.nextId++}`;
    const message = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
    const timeoutMs = options?.timeoutMs ?? this.commandTimeoutMs;
    return new Promise((resolve, reject) => {
      const entry: Pending = { command, resolve, reject };
      entry.timer = setTimeout(() => {
        this.pending.delete(id);
        reject(virtError(ErrorCode.OPERATION_TIMEOUT, `QEMU did not answer '${command}' within ${timeoutMs} ms`, ErrorDomain.QEMU));
      }, timeoutMs);
      this.pending.set(id, entry);
      this.stream.write(`${JSON.stringify(message)}\n`, (err) => {
        if (err) this.shutdown(virtError(ErrorCode.OPERATION_FAILED, `cannot write to QEMU monitor: ${err.message}`));
      });
    });
  }

  /**
   * Whether the open connection keeps Node's event loop alive (default yes). An idle connection kept
   * only for events should not hold a process that has nothing else to do.
   */
  keepAlive(on: boolean): void {
    const s = this.stream as Partial<Socket>;
    if (on) s.ref?.();
    else s.unref?.();
  }

  /** Calls `listener` for every event until the returned function is called. */
  on(listener: QmpEventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Subscribes now (so an event caused by a command sent right after is not missed) and resolves with the
   * first matching event, or undefined after `timeoutMs`, on abort or when the connection closes.
   */
  waitForEvent(match: (e: QmpEvent) => boolean, options: { timeoutMs: number; signal?: AbortSignal }): Promise<QmpEvent | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (e: QmpEvent | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        off();
        options.signal?.removeEventListener('abort', onAbort);
        resolve(e);
      };
      const onAbort = (): void => finish(undefined);
      const off = this.on((e) => {
        if (match(e)) finish(e);
      });
      const timer = setTimeout(() => finish(undefined), options.timeoutMs);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.signal?.aborted) finish(undefined);
      void this.closedPromise.then(() => finish(undefined));
    });
  }

  /** Events as an async iterator (buffered until read); ends when the connection closes or `return()` is called. */
  events(filter?: (e: QmpEvent) => boolean): AsyncIterableIterator<QmpEvent> {
    const queue: QmpEvent[] = [];
    let wake: ((r: IteratorResult<QmpEvent>) => void) | undefined;
    let done = false;
    const end = (): IteratorResult<QmpEvent> => {
      if (!done) {
        done = true;
        off();
        const w = wake;
        wake = undefined;
        w?.({ value: undefined, done: true });
      }
      return { value: undefined, done: true };
    };
    const off = this.on((e) => {
      if (filter && !filter(e)) return;
      const w = wake;
      if (w) {
        wake = undefined;
        w({ value: e, done: false });
      } else queue.push(e);
    });
    void this.closedPromise.then(end);
    return {
      next: () => {
        const e = queue.shift();
        if (e) return Promise.resolve({ value: e, done: false });
        if (done) return Promise.resolve({ value: undefined, done: true });
        return new Promise((r) => {
          wake = r;
        });
      },
      return: () => Promise.resolve(end()),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** Closes the connection (QEMU keeps running); commands in flight fail. */
  close(): void {
    this.shutdown(virtError(ErrorCode.OPERATION_FAILED, 'QEMU monitor connection closed by virtkit'));
  }

  private failedCommand(command: string, reason: VirtError): VirtError {
    return new VirtError(reason.code, `${reason.message} (while executing '${command}')`, { domain: ErrorDomain.QEMU, cause: reason });
  }

  private shutdown(reason: VirtError): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    this.greetingWaiter?.reject(reason);
    this.greetingWaiter = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(this.failedCommand(p.command, reason));
    }
    this.stream.destroy();
    this.resolveClosed(reason);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (line) this.onLine(line);
      if (this.closeReason) return;
      nl = this.buffer.indexOf('\n');
    }
    if (this.buffer.length > MAX_LINE_BYTES) {
      this.shutdown(virtError(ErrorCode.OPERATION_FAILED, `QEMU monitor sent a line longer than ${MAX_LINE_BYTES} bytes`));
    }
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      this.shutdown(virtError(ErrorCode.INTERNAL_ERROR, `QEMU monitor sent malformed JSON: ${line.slice(0, 200)}`));
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    if ('QMP' in msg) {
      this.greeting = msg as unknown as QmpGreeting;
      this.greetingWaiter?.resolve(this.greeting);
      this.greetingWaiter = undefined;
      return;
    }
    if (typeof msg.event === 'string') {
      const event = msg as unknown as QmpEvent;
      for (const l of [...this.listeners]) {
        try {
          l(event);
        } catch {
          // One listener's bug must not starve the others or the monitor.
        }
      }
      return;
    }
    const id = typeof msg.id === 'string' ? msg.id : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p || id === undefined) return; // a reply to a command that timed out
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('error' in msg) p.reject(new QmpCommandError(p.command, msg.error as QmpErrorBody));
    else p.resolve(msg.return);
  }
}

function openSocket(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect(path);
    const onError = (err: Error): void => {
      s.destroy();
      reject(err);
    };
    s.once('error', onError);
    s.once('connect', () => {
      s.off('error', onError);
      resolve(s);
    });
  });
}
