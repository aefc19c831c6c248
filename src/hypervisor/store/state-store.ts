/**
 * A state folder shared by every process that opens it (the test driver's
 * `?state=DIR`, the QEMU driver's state folders).
 *
 * Layout:
 *   DIR/domains/<name>.state   one file per domain: persistent XML and live status together
 *                              (record.ts), so one commit is one atomic rename
 *   DIR/driver.json            driver-wide counters (next id, next vnet number)
 *   DIR/lock                   the folder lock (driver.json and the set of names), held briefly
 *   DIR/locks/<hash>           one lock per domain, held for a whole call on that domain
 *   DIR/events.jsonl           committed events, followed by listening connections (event-log.ts)
 *
 * Files are replaced atomically (atomic-write.ts), so reading needs no lock. Writing a domain
 * needs that domain's lock; writing driver.json needs the folder lock. Locks are taken in that
 * order (domain, then folder), never the other way, so two processes cannot deadlock.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, VirtError } from '../../errors.js';
import { fsyncDir, fsyncDirSoon, TEMP_FILE_RE, unlinkDurable, writeFileAtomic } from './atomic-write.js';
import { isStagedTemp, StagedRecords } from './staged-records.js';
import { crashPoint } from './crash-points.js';
import { acquireFileLock, isProcessAlive, LockTimeoutError, releaseFileLock, sweepLockLeftovers } from './file-lock.js';
import { formatRecord, parseRecord, type RecordParts } from './record.js';

/** One domain as stored: its persistent definition and/or its live status. */
export interface StoredDomain {
  name: string;
  /** Persistent (inactive) domain XML, absent for a transient running domain. */
  config?: string;
  /** Live status XML (opaque string to the store), absent when not running. */
  status?: string;
}

/** Tuning for {@link StateStore.open}; the defaults suit the CLI. */
export interface StateStoreOptions {
  /** How long a lock is waited for before OPERATION_TIMEOUT (default 10000). */
  lockTimeoutMs?: number;
  /** Called when a lock call starts waiting for a live holder in another process (e.g. to tell the user). */
  onLockWait?: (pid: number) => void;
}

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
// Longest file name most file systems take (NAME_MAX).
const NAME_MAX_BYTES = 255;
const SUFFIX = '.state';
const FOLDER_KEY = '';

/** The locks held by an async call chain, innermost first. */
interface Held {
  key: string;
  /** Cleared on release, so a callback that outlives the lock can't write. */
  active: boolean;
  parent: Held | undefined;
}

/** Lock bookkeeping per state folder, shared by every StateStore of this process on it. */
interface Folder {
  /** Tail of the in-process queue per lock key ('' = folder lock, 'd:<name>' = a domain). */
  tails: Map<string, Promise<void>>;
  /** Marks the async call chain that holds each lock, for re-entrancy and write checks. */
  owner: AsyncLocalStorage<Held>;
  /** Whether leftovers of killed writers were cleaned up since this process opened it. */
  swept: boolean;
  /** Locks whose leftovers (temp files of a holder killed while taking it) this process has removed. */
  sweptLocks: Set<string>;
}

/** Options of StateStore.commitDomain. */
export interface CommitOptions {
  /**
   * Old and new record are equally good after a power loss (the caller knows that only state that
   * dies with the host changed): the folder's fsync runs after the return, off the event loop.
   */
  lazyRename?: boolean;
}

// Keyed by real path, and on globalThis so that two stores (or two copies of this
// module) on one folder share one queue: the file lock alone would make the second
// wait for the first until the timeout, since both carry the same pid.
const FOLDERS_KEY = Symbol.for('virtkit.stateStore.folders.v3');
const globals = globalThis as unknown as Record<symbol, Map<string, Folder> | undefined>;
const folders: Map<string, Folder> = globals[FOLDERS_KEY] ?? new Map<string, Folder>();
globals[FOLDERS_KEY] = folders;

export class StateStore {
  /** Absolute path of the state folder. */
  readonly dir: string;
  private readonly folder: Folder;
  private readonly lockTimeoutMs: number;
  private readonly onLockWait: ((pid: number) => void) | undefined;
  /** Records staged for a coming commit, by domain name. */
  private readonly staged = new StagedRecords();

  private constructor(dir: string, folder: Folder, options: StateStoreOptions) {
    this.dir = dir;
    this.folder = folder;
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.onLockWait = options.onLockWait;
  }

  /** Whether a domain of this name can be stored (a file name that stays in its folder and fits NAME_MAX). */
  static canStore(name: string): boolean {
    return nameProblem(name) === undefined;
  }

  /** Opens (creating with mode 0700 if needed) a state folder. Throws SYSTEM_ERROR if it can't. */
  static open(dir: string, options: StateStoreOptions = {}): StateStore {
    const abs = resolve(dir);
    let key: string;
    try {
      // An existing folder keeps its mode (it may be one the user chose, like $HOME);
      // everything inside it is private regardless.
      makePrivateDir(abs, true);
      if (!statSync(abs).isDirectory()) throw new Error('not a directory');
      for (const sub of ['domains', 'locks']) makePrivateDir(join(abs, sub), false);
      key = realpathSync(abs);
    } catch (err) {
      throw systemError(`cannot open state folder ${abs}`, err);
    }
    let folder = folders.get(key);
    if (folder === undefined) {
      folder = { tails: new Map(), owner: new AsyncLocalStorage<Held>(), swept: false, sweptLocks: new Set() };
      folders.set(key, folder);
    }
    return new StateStore(abs, folder, options);
  }

  /**
   * Runs fn holding the folder lock (in this process and across processes): for driver.json
   * and for changes to the set of domain names. Re-entrant within fn's async call chain.
   */
  withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.withKey(FOLDER_KEY, this.path('lock'), fn);
  }

  /**
   * Runs fn holding the lock of domain `name`, needed to write its state. Re-entrant within fn's call
   * chain, unless `fresh`: a callback (a socket's event, a timer) inherits the async context it was
   * created in, so it may seem to hold a lock its creator still holds; it must queue instead.
   */
  async withDomainLock<T>(name: string, fn: () => Promise<T> | T, opts: { fresh?: boolean } = {}): Promise<T> {
    checkName(name);
    return await this.withKey(`d:${name}`, this.path('locks', lockFileName(name)), fn, opts.fresh === true);
  }

  /** Every stored domain, sorted by name. */
  loadAll(): StoredDomain[] {
    const out: StoredDomain[] = [];
    for (const name of this.listNames()) {
      // Removed since the listing: a concurrent writer's doing, not an error.
      const d = this.load(name);
      if (d) out.push(d);
    }
    return out;
  }

  /** The names of the stored domains (unsorted). */
  listNames(): string[] {
    const dir = this.path('domains');
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw systemError(`cannot read ${dir}`, err);
    }
    const names: string[] = [];
    for (const file of files) {
      if (!file.endsWith(SUFFIX)) continue;
      const name = file.slice(0, -SUFFIX.length);
      // Files this store could not have written are someone else's.
      if (nameProblem(name) === undefined) names.push(name);
    }
    return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** One stored domain, or undefined when it has neither config nor status. */
  load(name: string): StoredDomain | undefined {
    const bytes = this.readRecord(name);
    if (bytes === undefined) return undefined;
    return { name, ...this.parse(name, bytes) };
  }

  /** The raw record of `name` (for cheap change detection), or undefined. */
  readRecord(name: string): Buffer | undefined {
    const path = this.path('domains', fileName(name));
    try {
      return readFileSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw systemError(`cannot read ${path}`, err);
    }
  }

  /** Splits a raw record; a file virtkit did not write is READ_FAILED naming it. */
  parse(name: string, bytes: Buffer): RecordParts {
    const parts = parseRecord(bytes);
    if (!parts) throw new VirtError(ErrorCode.READ_FAILED, `corrupt domain state ${this.path('domains', fileName(name))}`);
    return parts;
  }

  /**
   * Writes what a coming commit of `name` will store (`parts`, asked for on the next turn of the
   * event loop) under a temp name, flushed, in the thread pool, while the caller waits for
   * something else (a hypervisor's answer). A commitDomain of
   * exactly these bytes then only renames it: the commit's fsync leaves the call's critical path.
   * Needs the domain's lock; what no commit took by the time the lock is released is removed.
   */
  stageDomain(name: string, parts: () => RecordParts): void {
    this.assertHeld(`d:${name}`, name);
    this.staged.stage(name, this.path('domains', ''), () => formatRecord(parts()));
  }

  /** Resolves once the record staged for `name`, if any, is written (or failed): a commit can then take it. */
  async stagedWrite(name: string): Promise<void> {
    await this.staged.settled(name);
  }

  /**
   * Replaces everything stored for `name` in one atomic step: config and status together
   * (both absent: the domain is forgotten). Needs the domain's lock. Returns the bytes written.
   * A record staged with the same bytes (stageDomain) is renamed into place instead of written.
   */
  commitDomain(name: string, parts: RecordParts, opts: CommitOptions = {}): Buffer | undefined {
    this.assertHeld(`d:${name}`, name);
    const path = this.path('domains', fileName(name));
    if (parts.config === undefined && parts.status === undefined) {
      this.staged.drop(name);
      try {
        unlinkDurable(path);
      } catch (err) {
        throw systemError(`cannot remove ${path}`, err);
      }
      crashPoint('record-committed');
      return undefined;
    }
    const bytes = formatRecord(parts);
    const lazy = opts.lazyRename === true;
    try {
      if (this.staged.take(name, bytes, path)) {
        crashPoint('record-renamed');
        if (lazy) fsyncDirSoon(this.path('domains'));
        else fsyncDir(this.path('domains'));
      } else {
        const steps = { staged: () => crashPoint('record-staged'), renamed: () => crashPoint('record-renamed') };
        writeFileAtomic(path, bytes, 0o600, steps, lazy);
      }
    } catch (err) {
      throw systemError(`cannot write ${path}`, err);
    }
    crashPoint('record-committed');
    return bytes;
  }

  /** Stores the persistent definition of `name`, keeping its status. Needs the domain's lock. */
  writeConfig(name: string, xml: string): void {
    this.commitDomain(name, { ...this.currentParts(name), config: xml });
  }

  /** Forgets the persistent definition of `name`; no error if absent. */
  removeConfig(name: string): void {
    this.commitDomain(name, { ...this.currentParts(name), config: undefined });
  }

  /** Stores the live status of `name`, keeping its config. */
  writeStatus(name: string, xml: string): void {
    this.commitDomain(name, { ...this.currentParts(name), status: xml });
  }

  /** Forgets the live status of `name`; no error if absent. */
  removeStatus(name: string): void {
    this.commitDomain(name, { ...this.currentParts(name), status: undefined });
  }

  /** Small JSON object for driver-wide counters (next domain id, next vnet number). {} when absent. */
  readDriverState(): Record<string, unknown> {
    const path = this.path('driver.json');
    const text = this.readOptional(path);
    if (text === undefined) return {};
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new VirtError(ErrorCode.READ_FAILED, `corrupt driver state ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (!isPlainObject(value)) throw new VirtError(ErrorCode.READ_FAILED, `corrupt driver state ${path}: not an object`);
    return value;
  }

  /** Replaces the driver-wide state object. Needs the folder lock. */
  writeDriverState(state: Record<string, unknown>): void {
    this.assertHeld(FOLDER_KEY, undefined);
    if (!isPlainObject(state)) throw new VirtError(ErrorCode.INVALID_ARG, 'driver state must be a plain object');
    const path = this.path('driver.json');
    try {
      writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
    } catch (err) {
      throw systemError(`cannot write ${path}`, err);
    }
    crashPoint('counters-written');
  }

  /** True when the folder has never been used: no domains, no driver state. */
  isEmpty(): boolean {
    return this.listNames().length === 0 && this.readOptional(this.path('driver.json')) === undefined;
  }

  /**
   * Folds a folder written by virtkit 0.1 (DIR/config/<name>.xml, DIR/status/<name>.xml,
   * DIR/generation) into records. Needs the folder lock. Idempotent: a migration cut short
   * by a crash is simply done again.
   */
  migrateLegacy(): number {
    this.assertHeld(FOLDER_KEY, undefined);
    const legacy = new Map<string, RecordParts>();
    for (const kind of ['config', 'status'] as const) {
      let files: string[];
      try {
        files = readdirSync(this.path(kind));
      } catch {
        continue;
      }
      for (const file of files) {
        if (!file.endsWith('.xml')) continue;
        const name = file.slice(0, -4);
        const text = this.readOptional(this.path(kind, file));
        if (text === undefined || nameProblem(name) !== undefined) continue;
        legacy.set(name, { ...legacy.get(name), [kind]: text });
      }
    }
    for (const [name, parts] of legacy) {
      writeFileAtomic(this.path('domains', fileName(name)), formatRecord(parts));
      for (const kind of ['config', 'status']) unlinkDurable(this.path(kind, `${name}.xml`));
    }
    for (const kind of ['config', 'status']) {
      try {
        rmdirSync(this.path(kind));
      } catch {
        // Absent, or holding files that are not ours: leave it.
      }
    }
    try {
      unlinkSync(this.path('generation'));
    } catch {
      // Absent.
    }
    return legacy.size;
  }

  private currentParts(name: string): RecordParts {
    const bytes = this.readRecord(name);
    return bytes === undefined ? {} : this.parse(name, bytes);
  }

  private async withKey<T>(key: string, lockPath: string, fn: () => Promise<T> | T, fresh = false): Promise<T> {
    const current = fresh ? undefined : this.folder.owner.getStore();
    // Re-entrant: this async call chain already holds the lock. Tracked through
    // AsyncLocalStorage rather than a depth counter, which could not tell a nested
    // call from an unrelated concurrent one.
    if (isHeld(current, key)) return await fn();
    const leave = await this.enterQueue(key);
    try {
      const held = await this.acquire(lockPath, key);
      const context: Held = { key, active: true, parent: current };
      try {
        if (held.brokeStale || !this.folder.swept) this.sweep(lockPath);
        else if (!this.folder.sweptLocks.has(lockPath)) this.sweepLock(lockPath);
        return await this.folder.owner.run(context, fn);
      } finally {
        context.active = false;
        if (key !== FOLDER_KEY) this.staged.drop(key.slice(2));
        releaseFileLock(held);
      }
    } finally {
      leave();
    }
  }

  private async enterQueue(key: string): Promise<() => void> {
    const tails = this.folder.tails;
    const before = tails.get(key) ?? Promise.resolve();
    let leave!: () => void;
    const mine = new Promise<void>((done) => {
      leave = done;
    });
    const tail = before.then(() => mine);
    tails.set(key, tail);
    await before;
    return () => {
      // The last one out removes the queue, so a folder with many domains keeps no per-domain entries.
      if (tails.get(key) === tail) tails.delete(key);
      leave();
    };
  }

  private async acquire(lockPath: string, key: string) {
    try {
      return await acquireFileLock(lockPath, { timeoutMs: this.lockTimeoutMs, onWait: this.onLockWait });
    } catch (err) {
      if (err instanceof LockTimeoutError) {
        const what = key === FOLDER_KEY ? 'the state lock' : `the lock of domain '${key.slice(2)}'`;
        throw new VirtError(
          ErrorCode.OPERATION_TIMEOUT,
          `timed out waiting for ${what} on ${this.dir} (held by pid ${err.holderPid || 'unknown'})`,
        );
      }
      throw systemError(`cannot take a lock on ${this.dir}`, err);
    }
  }

  /**
   * Removes temp files of writers killed mid-write, once per process and again after breaking
   * a dead holder's lock. Safe under any lock: a temp file is removed only when its writer (the
   * pid in its name) is gone or is this process, whose writes are synchronous (but for the records
   * it staged, which it knows and keeps). Best effort:
   * leftovers are invisible to readers, so a failure here must not fail the caller.
   */
  private sweep(heldLock: string): void {
    for (const sub of ['', 'domains']) {
      const dir = this.path(sub);
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names) {
        const m = TEMP_FILE_RE.exec(name);
        const pid = m ? Number(m[1]) : 0;
        if (!m || (pid !== process.pid && isProcessAlive(pid)) || isStagedTemp(join(dir, name))) continue;
        try {
          unlinkSync(join(dir, name));
        } catch {
          // Someone else swept it first.
        }
      }
    }
    this.sweepLock(heldLock);
    this.folder.swept = true;
  }

  /**
   * Removes what a process killed while taking this lock left beside it (its temp file), the first
   * time this process holds it: such a kill leaves no stale lock to break, so nothing else would.
   */
  private sweepLock(heldLock: string): void {
    try {
      // Only the leftovers of the lock we hold may be judged (see sweepLockLeftovers).
      sweepLockLeftovers(heldLock);
    } catch {
      // As above: garbage only.
    }
    this.folder.sweptLocks.add(heldLock);
  }

  private assertHeld(key: string, name: string | undefined): void {
    if (!isHeld(this.folder.owner.getStore(), key)) {
      const what = name === undefined ? 'its lock' : `the lock of domain '${name}'`;
      throw new VirtError(ErrorCode.INTERNAL_ERROR, `state folder ${this.dir} written without holding ${what}`);
    }
  }

  private readOptional(path: string): string | undefined {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw systemError(`cannot read ${path}`, err);
    }
  }

  private path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }
}

function isHeld(ctx: Held | undefined, key: string): boolean {
  for (let c = ctx; c; c = c.parent) if (c.active && c.key === key) return true;
  return false;
}

/** Lock file names already hashed, by domain name (a hash costs 0.1-0.5 ms on a call's first steps). */
const lockNames = new Map<string, string>();
const LOCK_NAMES_MAX = 4096;

/** Lock files are named by a hash: any domain name fits, with room for the lock's temp suffixes. */
function lockFileName(name: string): string {
  let hashed = lockNames.get(name);
  if (hashed === undefined) {
    hashed = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32);
    if (lockNames.size >= LOCK_NAMES_MAX) lockNames.clear();
    lockNames.set(name, hashed);
  }
  return hashed;
}

function checkName(name: string): void {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new VirtError(ErrorCode.INVALID_ARG, `invalid name for a state file ${JSON.stringify(name)}: ${problem}`);
  }
}

/** The file name for a domain name, refusing anything that could escape its folder. */
function fileName(name: string): string {
  checkName(name);
  return name + SUFFIX;
}

function nameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name === '') return 'empty';
  if (name === '.' || name === '..') return 'reserved';
  if (name.includes('/') || name.includes('\0')) return "contains '/' or NUL";
  // On Windows a backslash separates paths too.
  if (process.platform === 'win32' && name.includes('\\')) return "contains '\\'";
  if (Buffer.byteLength(name, 'utf8') + SUFFIX.length > NAME_MAX_BYTES) return `too long (at most ${NAME_MAX_BYTES - SUFFIX.length} bytes)`;
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Creates a 0700 folder if missing; `chmod` beats a umask that would narrow it further. */
function makePrivateDir(path: string, recursive: boolean): void {
  let created: boolean;
  try {
    created = mkdirSync(path, { recursive, mode: 0o700 }) !== undefined || !recursive;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    created = false;
  }
  if (!created) return;
  chmodSync(path, 0o700);
  // Make the new entry survive a power loss along with the files written into it.
  fsyncDir(resolve(path, '..'));
}

function systemError(what: string, err: unknown): VirtError {
  if (err instanceof VirtError) return err;
  const detail = (err as NodeJS.ErrnoException).message ?? String(err);
  return new VirtError(ErrorCode.SYSTEM_ERROR, `${what}: ${detail}`, { cause: err });
}
