/**
 * This process's monitor connection to one running QEMU. QEMU's QMP socket serves one client at a
 * time, and processes share domains (CLI, library, daemon). A process keeps the connection across
 * its calls (the next call saves the connect: socket, greeting, capabilities), but gives it up as
 * soon as anyone else asks: while it holds the monitor it listens on a socket of its own in the
 * domain's runtime folder (`rel-*`, see MonitorHandover), and a process about to connect first
 * pokes every such socket there; the holder closes its connection at once (after the call in
 * progress, if any), and QEMU greets the next client. Unasked, an idle connection goes after
 * IDLE_HOLD_MS, so a client that does not poke (a raw QMP tool) waits at most that long.
 *
 * What QEMU reports meanwhile (DEVICE_DELETED, guest refusals, SHUTDOWN, QEMU exiting) is buffered
 * for the engine's next reconcile and announced with `changed()`. Anything missed while
 * disconnected is recovered from QEMU's state by reconcile (qom-list, the pid, the log), so events
 * are a speed-up, never the truth.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, unlinkSync } from 'node:fs';
import { connect as netConnect, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { ErrorCode, virtError } from '../../errors.js';
import { QmpClient } from './qmp/client.js';
import type { QmpEvent } from './qmp/protocol.js';

export interface MonitorOptions {
  socket: string;
  /** Called when something arrived that the engine should reconcile. */
  changed: () => void;
  /** How long an idle connection stays open when nobody asks for it (ms; default IDLE_HOLD_MS). */
  lingerMs?: number;
  /** How long to wait for the monitor (another process may hold it). */
  connectTimeoutMs?: number;
}

/** How long an idle connection is kept when nobody asks for the monitor. */
const IDLE_HOLD_MS = 10_000;

/** Release sockets: `rel-` and 7 hex digits, no longer than `monitor.sock` (so they fit where it fits). */
const RELEASE_SOCKET_RE = /^rel-[0-9a-f]{7}$/;
/** While waiting for QEMU's greeting, the runtime folder is looked at again this often (a holder that appeared meanwhile). */
const POKE_INTERVAL_MS = 50;

/**
 * Asks whoever holds the monitor of the QEMU whose socket is `monitorSocket` to let go of it:
 * connects to each release socket in its folder (the connection is the request). A socket nobody
 * listens on any more (its process was killed) is removed. Returns the names poked.
 */
export function requestMonitorRelease(monitorSocket: string, skip: ReadonlySet<string> = new Set()): string[] {
  const dir = dirname(monitorSocket);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => RELEASE_SOCKET_RE.test(n) && !skip.has(n));
  } catch {
    return [];
  }
  for (const name of names) {
    const path = join(dir, name);
    const sock = netConnect(path);
    sock.unref();
    sock.on('connect', () => sock.end());
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // Names are never reused: a socket without a listener belongs to a process that is gone.
      if (err.code === 'ECONNREFUSED') {
        try {
          unlinkSync(path);
        } catch {
          // Removed already.
        }
      }
    });
  }
  return names;
}

export class MonitorSession {
  readonly #options: MonitorOptions;
  #qmp: QmpClient | undefined;
  #connecting: Promise<QmpClient> | undefined;
  #busy = 0;
  #linger: NodeJS.Timeout | undefined;
  /** Where this process takes requests to let go of the monitor, while it holds it. */
  #listener: { server: Server; name: string } | undefined;
  /** Another client asked for the monitor: close as soon as no call uses it. */
  #released = false;
  /** Aliases whose DEVICE_DELETED we wait for, with the time we stop holding the monitor for them. */
  readonly #watching = new Map<string, number>();
  /** What to run the moment a watched alias's DEVICE_DELETED arrives (see watch). */
  readonly #onDeleted = new Map<string, () => Promise<void>>();
  /** What onDeleted started on the current connection, until taken. */
  readonly #started = new Map<string, Promise<void>>();
  /** Unplug answers that arrived and the engine has not collected yet. */
  readonly answers = new Map<string, 'removed' | 'rejected'>();
  /** QEMU's shutdown cause, when its SHUTDOWN event was seen. */
  shutdownCause: string | undefined;
  /** The monitor connection ended while we did not close it (QEMU exited?). */
  lostConnection = false;
  /** A destroy of this process is under way: the connection's end is expected. */
  expectingExit = false;

  constructor(options: MonitorOptions) {
    this.#options = options;
  }

  get connected(): boolean {
    return this.#qmp?.isOpen === true;
  }

  /** Runs `fn` with a connection, held at least until it returns. */
  async use<T>(fn: (qmp: QmpClient) => Promise<T>): Promise<T> {
    this.#busy++;
    clearTimeout(this.#linger);
    try {
      const qmp = await this.#connect();
      qmp.keepAlive(true);
      return await fn(qmp);
    } finally {
      this.#busy--;
      this.#scheduleRelease();
    }
  }

  /**
   * Starts connecting now, so a call that will use the monitor finds it ready: the connect (socket,
   * greeting, capabilities: 1-5 ms) overlaps the call's own work before its first command. Unused,
   * the connection goes after the usual linger. Errors are left to the `use` that follows.
   */
  warm(): void {
    if (this.#qmp?.isOpen || this.#connecting) return;
    this.#connect().then(
      () => this.#scheduleRelease(),
      () => undefined,
    );
  }

  /**
   * Keep the connection until `alias`'s unplug is answered or `untilMs` (epoch) passes. `onDeleted`
   * starts (before `changed()`) when DEVICE_DELETED for it arrives on this connection; takeStarted
   * hands over what it started. Both are forgotten when the connection ends: nothing runs for, or
   * stands in for, a removal after a gap, when another process may have finished that unplug and
   * reused the alias.
   */
  watch(alias: string, untilMs: number, onDeleted?: () => Promise<void>): void {
    this.#watching.set(alias, untilMs);
    this.#started.delete(alias);
    if (onDeleted) this.#onDeleted.set(alias, onDeleted);
    else this.#onDeleted.delete(alias);
    this.#scheduleRelease();
  }

  /** What watch's `onDeleted` started for `alias` on the current connection, taken (once). */
  takeStarted(alias: string): Promise<void> | undefined {
    const p = this.#started.get(alias);
    this.#started.delete(alias);
    return p;
  }

  isWatching(alias: string): boolean {
    const until = this.#watching.get(alias);
    return until !== undefined && until > Date.now() && this.connected;
  }

  /** Takes the buffered unplug answers. */
  takeAnswers(): Map<string, 'removed' | 'rejected'> {
    const out = new Map(this.answers);
    this.answers.clear();
    return out;
  }

  close(): void {
    clearTimeout(this.#linger);
    this.#watching.clear();
    this.#onDeleted.clear();
    this.#started.clear();
    // A removal heard but not yet applied may be about an alias another process has reused by the
    // time this one looks again (the fast path trusts what was heard): reconcile's full look (qom-list)
    // finds the removal anyway. A refusal leaves no trace in QEMU's state: it is kept.
    for (const [alias, answer] of this.answers) if (answer === 'removed') this.answers.delete(alias);
    const q = this.#qmp;
    this.#qmp = undefined;
    q?.close();
    this.#stopListening();
  }

  async #connect(): Promise<QmpClient> {
    if (this.#qmp?.isOpen) return this.#qmp;
    if (this.#connecting) return this.#connecting;
    this.#connecting = (async () => {
      let qmp: QmpClient;
      // Ask the holder, if any, to let go; again for a holder that appears while QEMU has not greeted us.
      const poked = new Set<string>();
      const poke = (): void => {
        for (const name of requestMonitorRelease(this.#options.socket, poked)) poked.add(name);
      };
      poke();
      const poker = setInterval(poke, POKE_INTERVAL_MS);
      poker.unref();
      try {
        qmp = await QmpClient.connect(this.#options.socket, { timeoutMs: this.#options.connectTimeoutMs ?? 15_000 });
      } catch (err) {
        const busy = (err as { code?: number }).code === ErrorCode.OPERATION_TIMEOUT;
        throw busy ? virtError(ErrorCode.OPERATION_TIMEOUT, `QEMU monitor '${this.#options.socket}' is busy (held by another process)`) : err;
      } finally {
        clearInterval(poker);
      }
      qmp.on((e) => this.#onEvent(e));
      void qmp.closed.then(() => {
        if (this.#qmp !== qmp) return; // released by us
        this.#qmp = undefined;
        this.#onDeleted.clear();
        this.#started.clear();
        this.#stopListening();
        if (!this.expectingExit) {
          this.lostConnection = true;
          this.#options.changed();
        }
      });
      this.#qmp = qmp;
      this.#released = false;
      this.#listen();
      return qmp;
    })();
    try {
      return await this.#connecting;
    } finally {
      this.#connecting = undefined;
    }
  }

  #onEvent(e: QmpEvent): void {
    const device = typeof e.data?.device === 'string' ? e.data.device : undefined;
    if (e.event === 'DEVICE_DELETED' && device !== undefined) {
      this.answers.set(device, 'removed');
      this.#watching.delete(device);
      const onDeleted = this.#onDeleted.get(device);
      this.#onDeleted.delete(device);
      if (onDeleted) {
        const started = onDeleted();
        started.catch(() => undefined); // its taker sees the error; untaken, it has no one to tell
        this.#started.set(device, started);
      }
      this.#options.changed();
      this.#scheduleRelease();
    } else if (e.event === 'DEVICE_UNPLUG_GUEST_ERROR' && device !== undefined) {
      this.answers.set(device, 'rejected');
      this.#watching.delete(device);
      this.#onDeleted.delete(device);
      this.#options.changed();
      this.#scheduleRelease();
    } else if (e.event === 'SHUTDOWN') {
      this.shutdownCause = typeof e.data?.reason === 'string' ? e.data.reason : undefined;
      this.#options.changed();
    }
  }

  /** Takes requests to let go of the monitor (requestMonitorRelease) while this process holds it. */
  #listen(): void {
    this.#stopListening();
    const name = `rel-${randomBytes(4).toString('hex').slice(0, 7)}`;
    const server = createServer((sock) => {
      sock.destroy();
      this.#released = true;
      if (this.#busy === 0) this.close();
    });
    server.on('error', () => {
      // Without it, other processes wait for the idle hold to end: slower, not wrong.
      if (this.#listener?.server === server) this.#listener = undefined;
    });
    server.listen(join(dirname(this.#options.socket), name));
    server.unref();
    this.#listener = { server, name };
  }

  #stopListening(): void {
    // Closing a listening unix socket removes its file.
    this.#listener?.server.close();
    this.#listener = undefined;
  }

  /** Releases the connection after the idle hold if nothing needs it (at once when asked); re-arms for the earliest watch deadline. */
  #scheduleRelease(): void {
    clearTimeout(this.#linger);
    if (this.#busy > 0 || !this.#qmp) return;
    if (this.#released) {
      this.close();
      return;
    }
    // Idle: the connection waits for events but does not keep the process alive.
    this.#qmp.keepAlive(false);
    const now = Date.now();
    for (const [alias, until] of this.#watching) if (until <= now) this.#watching.delete(alias);
    const watchUntil = Math.max(0, ...this.#watching.values());
    const delay = Math.max(this.#options.lingerMs ?? IDLE_HOLD_MS, watchUntil - now);
    this.#linger = setTimeout(() => {
      if (this.#busy > 0) return;
      if ([...this.#watching.values()].some((u) => u > Date.now())) {
        this.#scheduleRelease();
        return;
      }
      this.close();
    }, delay);
    this.#linger.unref();
  }
}
