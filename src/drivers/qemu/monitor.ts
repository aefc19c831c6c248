/**
 * This process's monitor connection to one running QEMU. QEMU's QMP socket serves one client at a
 * time, and processes share domains (CLI, library, daemon), so a connection is held only while it is
 * used: during a backend call, and while an unplug answer is awaited (at most the unplug timeout);
 * then it is released after a short linger, and the next process can connect. What QEMU reports
 * meanwhile (DEVICE_DELETED, guest refusals, SHUTDOWN, QEMU exiting) is buffered for the engine's next
 * reconcile and announced with `changed()`. Anything missed while disconnected is recovered from
 * QEMU's state by reconcile (qom-list, the pid, the log), so events are a speed-up, never the truth.
 */
import { ErrorCode, virtError } from '../../errors.js';
import { QmpClient } from './qmp/client.js';
import type { QmpEvent } from './qmp/protocol.js';

export interface MonitorOptions {
  socket: string;
  /** Called when something arrived that the engine should reconcile. */
  changed: () => void;
  /** How long an idle connection stays open (ms). */
  lingerMs?: number;
  /** How long to wait for the monitor (another process may hold it). */
  connectTimeoutMs?: number;
}

const DEFAULT_LINGER_MS = 150;

export class MonitorSession {
  readonly #options: MonitorOptions;
  #qmp: QmpClient | undefined;
  #connecting: Promise<QmpClient> | undefined;
  #busy = 0;
  #linger: NodeJS.Timeout | undefined;
  /** Aliases whose DEVICE_DELETED we wait for, with the time we stop holding the monitor for them. */
  readonly #watching = new Map<string, number>();
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

  /** Keep the connection until `alias`'s unplug is answered or `untilMs` (epoch) passes. */
  watch(alias: string, untilMs: number): void {
    this.#watching.set(alias, untilMs);
    this.#scheduleRelease();
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
    const q = this.#qmp;
    this.#qmp = undefined;
    q?.close();
  }

  async #connect(): Promise<QmpClient> {
    if (this.#qmp?.isOpen) return this.#qmp;
    if (this.#connecting) return this.#connecting;
    this.#connecting = (async () => {
      let qmp: QmpClient;
      try {
        qmp = await QmpClient.connect(this.#options.socket, { timeoutMs: this.#options.connectTimeoutMs ?? 15_000 });
      } catch (err) {
        const busy = (err as { code?: number }).code === ErrorCode.OPERATION_TIMEOUT;
        throw busy ? virtError(ErrorCode.OPERATION_TIMEOUT, `QEMU monitor '${this.#options.socket}' is busy (held by another process)`) : err;
      }
      qmp.on((e) => this.#onEvent(e));
      void qmp.closed.then(() => {
        if (this.#qmp !== qmp) return; // released by us
        this.#qmp = undefined;
        if (!this.expectingExit) {
          this.lostConnection = true;
          this.#options.changed();
        }
      });
      this.#qmp = qmp;
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
      this.#options.changed();
      this.#scheduleRelease();
    } else if (e.event === 'DEVICE_UNPLUG_GUEST_ERROR' && device !== undefined) {
      this.answers.set(device, 'rejected');
      this.#watching.delete(device);
      this.#options.changed();
      this.#scheduleRelease();
    } else if (e.event === 'SHUTDOWN') {
      this.shutdownCause = typeof e.data?.reason === 'string' ? e.data.reason : undefined;
      this.#options.changed();
    }
  }

  /** Releases the connection after the linger if nothing needs it; re-arms for the earliest watch deadline. */
  #scheduleRelease(): void {
    clearTimeout(this.#linger);
    if (this.#busy > 0 || !this.#qmp) return;
    // Idle: the connection waits for events but does not keep the process alive.
    this.#qmp.keepAlive(false);
    const now = Date.now();
    for (const [alias, until] of this.#watching) if (until <= now) this.#watching.delete(alias);
    const watchUntil = Math.max(0, ...this.#watching.values());
    const delay = Math.max(this.#options.lingerMs ?? DEFAULT_LINGER_MS, watchUntil - now);
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
