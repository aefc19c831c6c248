/**
 * Where the test driver's domains live: in this process only (`test:///default`),
 * or in a state folder shared by processes (`?state=DIR`). Every change runs as
 * a transaction: serialised, and written to disk (atomically, under the
 * cross-process lock) only when it completes without error.
 */
import type { DomainEvent } from '../../shared/events.js';
import { configXml, formatStatus, parseStatus, storeXml, type DomainObj } from './domain-obj.js';
import { EventLog } from './event-log.js';
import { StateStore } from './store.js';
import { DomainTable } from './table.js';

export interface Counters {
  /** Next running-domain id. */
  nextId: number;
  /** Next number per host-side name prefix (vnet, macvtap): driver-wide, never reused. */
  taps: Record<string, number>;
}

export interface Tx {
  readonly table: DomainTable;
  readonly counters: Counters;
  /** Domains with unplugs the guest has not answered yet. */
  readonly pending: Set<DomainObj>;
  /** Marks a domain for writing when the transaction commits. */
  touch(obj: DomainObj): void;
  /** Removes a domain (and its files at commit). */
  forget(obj: DomainObj): void;
  /** Queues an event, delivered after commit. */
  emit(e: DomainEvent): void;
  /** Queues a callback run after commit (to wake waiters). */
  after(fn: () => void): void;
}

export interface Backing {
  /** Runs a transaction. Events and `after` callbacks fire only if it commits. */
  run<T>(fn: (tx: Tx) => T | Promise<T>): Promise<T>;
  /** Runs a read-only look at the table. */
  read<T>(fn: (tx: Tx) => T): Promise<T>;
  readonly persistent: boolean;
  /** Delivers events caused by other connections (state folder only); no-op in memory. */
  follow?(deliver: (e: DomainEvent) => void): void;
  unfollow?(): void;
}

type Sink = (events: DomainEvent[], after: (() => void)[]) => void;

class TxImpl implements Tx {
  readonly touched = new Set<DomainObj>();
  readonly forgotten = new Set<DomainObj>();
  readonly events: DomainEvent[] = [];
  readonly afters: (() => void)[] = [];
  constructor(
    readonly table: DomainTable,
    readonly counters: Counters,
    readonly pending: Set<DomainObj>,
  ) {}
  touch(obj: DomainObj): void {
    this.touched.add(obj);
  }
  forget(obj: DomainObj): void {
    this.table.delete(obj);
    this.pending.delete(obj);
    this.forgotten.add(obj);
  }
  emit(e: DomainEvent): void {
    this.events.push(e);
  }
  after(fn: () => void): void {
    this.afters.push(fn);
  }
}

/** Serialises async work in this process (a promise chain). */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** In-process state: one private set of domains per connection, like libvirt's test:///default. */
export class MemoryBacking implements Backing {
  readonly persistent = false;
  readonly table = new DomainTable();
  readonly counters: Counters = { nextId: 1, taps: {} };
  readonly pending = new Set<DomainObj>();
  readonly #mutex = new Mutex();
  readonly #sink: Sink;

  constructor(sink: Sink) {
    this.#sink = sink;
  }

  run<T>(fn: (tx: Tx) => T | Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      const tx = new TxImpl(this.table, this.counters, this.pending);
      const out = await fn(tx);
      this.#sink(tx.events, tx.afters);
      return out;
    });
  }

  read<T>(fn: (tx: Tx) => T): Promise<T> {
    // Single-threaded and synchronous: a read cannot observe a half-applied change.
    try {
      return Promise.resolve(fn(new TxImpl(this.table, this.counters, this.pending)));
    } catch (err) {
      return Promise.reject(err);
    }
  }
}

function uuidOf(xml: string | undefined): string {
  const m = xml ? /<uuid>\s*([^<\s]+)\s*<\/uuid>/.exec(xml) : null;
  return m ? m[1]! : '';
}

/** State shared through a folder: reloaded when another process changed it, written atomically on commit. */
export class DiskBacking implements Backing {
  readonly persistent = true;
  readonly store: StateStore;
  readonly #table = new DomainTable();
  readonly #pending = new Set<DomainObj>();
  #counters: Counters = { nextId: 1, taps: {} };
  #generation = -1;
  readonly #sink: Sink;
  readonly #events: EventLog;

  constructor(dir: string, sink: Sink) {
    this.store = StateStore.open(dir);
    this.#sink = sink;
    this.#events = new EventLog(this.store.dir);
  }

  follow(deliver: (e: DomainEvent) => void): void {
    this.#events.follow(deliver);
  }

  unfollow(): void {
    this.#events.stop();
  }

  /** True when the folder had never been used (so the caller seeds the default domain). */
  isEmpty(): boolean {
    return this.store.loadAll().length === 0 && Object.keys(this.store.readDriverState()).length === 0;
  }

  #reload(): void {
    const gen = this.store.generation();
    if (gen === this.#generation) return;
    this.#table.clear();
    this.#pending.clear();
    for (const s of this.store.loadAll()) {
      const live = s.status === undefined ? undefined : parseStatus(s.status);
      const obj: DomainObj = {
        name: s.name,
        uuid: uuidOf(s.config) || (live?.def.uuid ?? ''),
        config: s.config === undefined ? undefined : storeXml(s.config),
        live,
      };
      this.#table.add(obj);
      if (live && live.pending.length > 0) this.#pending.add(obj);
    }
    const st = this.store.readDriverState() as Partial<Counters>;
    this.#counters = { nextId: st.nextId ?? 1, taps: { ...(st.taps ?? {}) } };
    this.#generation = gen;
  }

  run<T>(fn: (tx: Tx) => T | Promise<T>): Promise<T> {
    return this.store.withLock(async () => {
      this.#reload();
      const before = JSON.stringify(this.#counters);
      const tx = new TxImpl(this.#table, this.#counters, this.#pending);
      let out: T;
      try {
        out = await fn(tx);
      } catch (err) {
        // Whatever the failed call touched in memory is thrown away: the files still hold the old state.
        this.#generation = -1;
        throw err;
      }
      for (const obj of tx.forgotten) {
        if (this.#table.findName(obj.name) === obj) continue;
        this.store.removeConfig(obj.name);
        this.store.removeStatus(obj.name);
      }
      for (const obj of tx.touched) {
        if (tx.forgotten.has(obj)) continue;
        if (obj.config !== undefined) this.store.writeConfig(obj.name, configXml(obj)!);
        else this.store.removeConfig(obj.name);
        if (obj.live) this.store.writeStatus(obj.name, formatStatus(obj.live));
        else this.store.removeStatus(obj.name);
      }
      if (JSON.stringify(this.#counters) !== before) this.store.writeDriverState({ ...this.#counters });
      this.#events.append(tx.events);
      this.#generation = this.store.generation();
      this.#sink(tx.events, tx.afters);
      return out;
    });
  }

  read<T>(fn: (tx: Tx) => T): Promise<T> {
    return this.run(fn);
  }
}

