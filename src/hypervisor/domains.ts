/**
 * Where an engine's domains live: in this process only (`MemoryDomains`, test:///default),
 * or in a state folder shared by processes (`FolderDomains`). Both give the engine the same
 * three things: a lock per domain, held for a whole call on it (the hypervisor step and the
 * unplug wait included, like libvirt's domain job); a short driver-wide lock for the counters
 * and the set of names; and a commit that installs one domain's new value in one step.
 */
import type { DomainEvent } from '../shared/events.js';
import { configXml, type DomainObj, formatStatus, parseStatus, storeXml } from './domain-obj.js';
import { KeyedMutex, Mutex } from './mutex.js';
import { type Counters, freshCounters } from './naming.js';
import { AutostartMarks } from './store/autostart-marks.js';
import { EventLog } from './store/event-log.js';
import { StateStore, type StateStoreOptions } from './store/state-store.js';
import type { RecordParts } from './store/record.js';
import { DomainTable } from './table.js';

export interface DomainStore {
  /** True for a state folder (other processes may change it between calls). */
  readonly persistent: boolean;
  /** Domain `name` as stored now, without a lock (a folder is read afresh). */
  get(name: string): DomainObj | undefined;
  /** Every domain as stored now. */
  table(): DomainTable;
  /** The last table seen, possibly stale on a folder: for lookups the caller verifies with get(). */
  cached(): DomainTable;
  /**
   * Runs fn holding domain `name`'s lock (this process and, for a folder, every process). `fresh`:
   * the caller starts its own chain (a callback, a timer) and never joins a lock its context seems to hold.
   */
  withDomain<T>(name: string, fn: () => Promise<T>, opts?: { fresh?: boolean }): Promise<T>;
  /**
   * Runs fn holding the driver-wide lock, with the current counters and table (read when asked:
   * on a folder that reads every domain). Counters fn changed are made durable before this
   * returns, before any name they handed out is used.
   */
  withDriver<T>(fn: (counters: Counters, table: () => DomainTable) => Promise<T> | T): Promise<T>;
  /** Installs the new value of domain `name` (its lock held): durable first, then visible. */
  commit(name: string, next: DomainObj | undefined, events: readonly DomainEvent[]): void;
  /**
   * Starts the slow half of a likely coming commit of `next` (a folder: the record written and
   * flushed in the thread pool) while the caller waits for the hypervisor; a commit of the same
   * value then only finishes it. Its lock held. Optional: a speed-up, never needed for correctness.
   */
  stage?(name: string, next: DomainObj): void;
  /** Resolves when what stage() started for `name` is done (a commit right after can use it). */
  staged?(name: string): Promise<void>;
  /**
   * Does the CPU half of a coming commit of `next` now (a folder: its record formatted) while the
   * caller waits for something else; a commit of this very object then skips it. Its lock held.
   * Optional: a speed-up, never needed for correctness (any other value is committed as usual).
   */
  prepare?(name: string, next: DomainObj): void;
  /** True when nothing was ever stored (the driver seeds its default domains). Driver lock held. */
  isFresh(): boolean;
  /** Whether persistent domain `name` is marked to start with the driver. */
  getAutostart(name: string): boolean;
  /** Marks or unmarks domain `name` (its lock held); a commit that leaves no definition unmarks it. */
  setAutostart(name: string, on: boolean): void;
  /** Delivers events other processes committed (folder only). */
  follow?(deliver: (e: DomainEvent) => void): void;
  unfollow?(): void;
}

/** In-process state: one private set of domains per connection, like libvirt's test:///default. */
export class MemoryDomains implements DomainStore {
  readonly persistent = false;
  readonly #table = new DomainTable();
  readonly #counters = freshCounters();
  readonly #domainLocks = new KeyedMutex();
  readonly #driverLock = new Mutex();
  readonly #autostart = new Set<string>();

  get(name: string): DomainObj | undefined {
    return this.#table.findName(name);
  }
  table(): DomainTable {
    return this.#table;
  }
  cached(): DomainTable {
    return this.#table;
  }
  withDomain<T>(name: string, fn: () => Promise<T>): Promise<T> {
    return this.#domainLocks.run(name, fn);
  }
  withDriver<T>(fn: (counters: Counters, table: () => DomainTable) => Promise<T> | T): Promise<T> {
    return this.#driverLock.run(() => fn(this.#counters, () => this.#table));
  }
  commit(name: string, next: DomainObj | undefined): void {
    this.#table.set(name, next);
    if (next?.config === undefined) this.#autostart.delete(name);
  }
  isFresh(): boolean {
    return this.#table.size === 0 && this.#counters.nextId === 1;
  }
  getAutostart(name: string): boolean {
    return this.#autostart.has(name);
  }
  setAutostart(name: string, on: boolean): void {
    if (on) this.#autostart.add(name);
    else this.#autostart.delete(name);
  }
}

function uuidOf(xml: string | undefined): string {
  const m = xml ? /<uuid>\s*([^<\s]+)\s*<\/uuid>/.exec(xml) : null;
  return m ? m[1]! : '';
}

/** The record of a domain's value (both halves absent: forgotten). */
function recordOf(next: DomainObj | undefined): RecordParts {
  const config = next ? configXml(next) : undefined;
  const status = next?.live ? formatStatus(next.live) : undefined;
  // The record keeps the reason only while there is no status (record.ts).
  const shutoffReason = next?.shutoffReason;
  return { config, status, ...(shutoffReason === undefined ? {} : { shutoffReason }) };
}

/** State shared through a folder: read afresh (and cached by content), written atomically per domain. */
export class FolderDomains implements DomainStore {
  readonly persistent = true;
  readonly store: StateStore;
  readonly #table = new DomainTable();
  /** What each domain's record held when last read or written, to skip re-parsing. */
  readonly #seen = new Map<string, { bytes: Buffer; obj: DomainObj }>();
  readonly #events: EventLog;
  readonly #autostart: AutostartMarks;
  readonly #statusDiesWithHost: boolean;
  readonly #stageCommits: boolean;
  /** Records formatted ahead by prepare(), by domain name, with the value they are of. */
  readonly #prepared = new Map<string, { next: DomainObj; record: RecordParts }>();

  /**
   * `statusDiesWithHost`: what the live status describes does not survive the host (QEMU processes,
   * their taps and runtime folders): a commit that changes only a running domain's status need not
   * make its rename durable before it returns (the data is flushed either way). After a power loss
   * the old and the new status say alike that the domain is no longer running.
   * `stageCommits`: stage() writes ahead (worth it where calls wait on a real hypervisor; elsewhere
   * a prediction the backend's runtime data overturns is only a wasted write).
   */
  constructor(dir: string, options: StateStoreOptions & { statusDiesWithHost?: boolean; stageCommits?: boolean } = {}) {
    this.store = StateStore.open(dir, options);
    this.#statusDiesWithHost = options.statusDiesWithHost === true;
    this.#stageCommits = options.stageCommits === true;
    this.#events = new EventLog(this.store.dir);
    this.#autostart = new AutostartMarks(this.store.dir);
  }

  /** Converts a folder written by virtkit 0.1 (config/, status/) once. */
  migrate(): Promise<number> {
    return this.store.withLock(() => this.store.migrateLegacy());
  }

  get(name: string): DomainObj | undefined {
    // No file can hold such a name: no such domain (a define of it fails at commit, naming why).
    if (!StateStore.canStore(name)) return undefined;
    const bytes = this.store.readRecord(name);
    const seen = this.#seen.get(name);
    if (bytes === undefined) {
      if (seen) {
        this.#seen.delete(name);
        this.#table.set(name, undefined);
      }
      return undefined;
    }
    if (seen?.bytes.equals(bytes)) return seen.obj;
    const parts = this.store.parse(name, bytes);
    const live = parts.status === undefined ? undefined : parseStatus(parts.status);
    const obj: DomainObj = {
      name,
      uuid: uuidOf(parts.config) || (live?.def.uuid ?? ''),
      config: parts.config === undefined ? undefined : storeXml(parts.config),
      live,
      ...(parts.shutoffReason === undefined ? {} : { shutoffReason: parts.shutoffReason }),
    };
    this.#seen.set(name, { bytes, obj });
    this.#table.set(name, obj);
    return obj;
  }

  table(): DomainTable {
    const names = new Set(this.store.listNames());
    for (const name of [...this.#seen.keys()]) if (!names.has(name)) this.get(name);
    for (const name of names) this.get(name);
    return this.#table;
  }

  cached(): DomainTable {
    return this.#table;
  }

  withDomain<T>(name: string, fn: () => Promise<T>, opts?: { fresh?: boolean }): Promise<T> {
    return this.store.withDomainLock(name, fn, opts);
  }

  withDriver<T>(fn: (counters: Counters, table: () => DomainTable) => Promise<T> | T): Promise<T> {
    return this.store.withLock(async () => {
      const st = this.store.readDriverState() as Partial<Counters>;
      const counters: Counters = { nextId: st.nextId ?? 1, taps: { ...(st.taps ?? {}) } };
      const before = JSON.stringify(counters);
      const out = await fn(counters, () => this.table());
      if (JSON.stringify(counters) !== before) this.store.writeDriverState({ ...counters });
      return out;
    });
  }

  commit(name: string, next: DomainObj | undefined, events: readonly DomainEvent[]): void {
    const prepared = this.#prepared.get(name);
    this.#prepared.delete(name);
    const record = prepared !== undefined && prepared.next === next ? prepared.record : recordOf(next);
    const bytes = this.store.commitDomain(name, record, { lazyRename: this.#statusOnly(name, next) });
    if (next && bytes) this.#seen.set(name, { bytes, obj: next });
    else this.#seen.delete(name);
    this.#table.set(name, next);
    // An undefined domain (gone, or now transient) loses its autostart mark, as libvirt removes the link.
    if (next?.config === undefined) this.#autostart.set(name, false);
    // The record is the commit: failing to log its events must not fail the call that made it.
    try {
      this.#events.append([...events]);
    } catch (err) {
      process.emitWarning(`events of domain '${name}' not logged in ${this.store.dir}: ${(err as Error).message}`, { type: 'VirtkitStateWarning' });
    }
  }

  stage(name: string, next: DomainObj): void {
    if (this.#stageCommits) this.store.stageDomain(name, () => recordOf(next));
  }

  staged(name: string): Promise<void> {
    return this.store.stagedWrite(name);
  }

  prepare(name: string, next: DomainObj): void {
    this.#prepared.set(name, { next, record: recordOf(next) });
  }

  /** Whether `next` differs from the record last read or written only in a running domain's status (see statusDiesWithHost). */
  #statusOnly(name: string, next: DomainObj | undefined): boolean {
    const prev = this.#seen.get(name)?.obj;
    if (!this.#statusDiesWithHost || !prev?.live || !next?.live) return false;
    return prev.config === next.config || (prev.config !== undefined && next.config !== undefined && prev.config.equals(next.config));
  }

  getAutostart(name: string): boolean {
    return StateStore.canStore(name) && this.#autostart.has(name);
  }

  setAutostart(name: string, on: boolean): void {
    this.#autostart.set(name, on);
  }

  isFresh(): boolean {
    return this.store.isEmpty();
  }

  follow(deliver: (e: DomainEvent) => void): void {
    this.#events.follow(deliver);
  }

  unfollow(): void {
    this.#events.stop();
  }
}
