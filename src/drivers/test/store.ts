/**
 * On-disk state of the test driver (`test:///default?state=DIR`), shared by every
 * process that opens the same folder.
 *
 * Layout: DIR/config/<name>.xml (persistent definitions), DIR/status/<name>.xml (live
 * status), DIR/driver.json (driver-wide counters), DIR/generation (write counter),
 * DIR/lock (cross-process lock). Every file is replaced atomically (see atomic-write.ts),
 * so readers need no lock; writers hold the in-process mutex and the cross-process lock.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, VirtError } from '../../errors.js';
import { fsyncDir, TEMP_FILE_RE, unlinkDurable, writeFileAtomic } from './atomic-write.js';
import { acquireFileLock, isProcessAlive, LockTimeoutError, releaseFileLock, sweepLockLeftovers } from './lock.js';

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
  /** How long withLock waits for another process's lock before OPERATION_TIMEOUT (default 10000). */
  lockTimeoutMs?: number;
  /** Called when withLock starts waiting for a live holder in another process (e.g. to tell the user). */
  onLockWait?: (pid: number) => void;
}

const DEFAULT_LOCK_TIMEOUT_MS = 10_000;
// Longest file name most file systems take (NAME_MAX).
const NAME_MAX_BYTES = 255;
const XML_SUFFIX = '.xml';

interface LockContext {
  /** Cleared on release, so a callback that outlives withLock can't write. */
  active: boolean;
}

/** Lock bookkeeping per state folder, shared by every StateStore of this process on it. */
interface FolderLock {
  /** Tail of the in-process queue of withLock calls. */
  tail: Promise<void>;
  /** Marks the async call chain that holds the lock, for re-entrancy and write checks. */
  owner: AsyncLocalStorage<LockContext>;
  /** Whether leftovers of killed writers were cleaned up since this process opened it. */
  swept: boolean;
}

// Keyed by real path, and on globalThis so that two stores (or two copies of this
// module) on one folder share one queue: the file lock alone would make the second
// wait for the first until the timeout, since both carry the same pid.
const FOLDERS_KEY = Symbol.for('virtkit.stateStore.folders');
const globals = globalThis as unknown as Record<symbol, Map<string, FolderLock> | undefined>;
const folders: Map<string, FolderLock> = globals[FOLDERS_KEY] ?? new Map<string, FolderLock>();
globals[FOLDERS_KEY] = folders;

/** A state folder of the test driver; see the module comment for layout and guarantees. */
export class StateStore {
  /** Absolute path of the state folder. */
  readonly dir: string;
  private readonly folder: FolderLock;
  private readonly lockTimeoutMs: number;
  private readonly onLockWait: ((pid: number) => void) | undefined;

  private constructor(dir: string, folder: FolderLock, options: StateStoreOptions) {
    this.dir = dir;
    this.folder = folder;
    this.lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    this.onLockWait = options.onLockWait;
  }

  /** Opens (creating with mode 0700 if needed) a state folder. Layout: DIR/config/<name>.xml, DIR/status/<name>.xml, DIR/driver.json, DIR/lock, DIR/generation. Throws SYSTEM_ERROR if it can't. */
  static open(dir: string, options: StateStoreOptions = {}): StateStore {
    const abs = resolve(dir);
    let key: string;
    try {
      // An existing folder keeps its mode (it may be one the user chose, like $HOME);
      // everything inside it is private regardless.
      makePrivateDir(abs, true);
      if (!statSync(abs).isDirectory()) throw new Error('not a directory');
      for (const sub of ['config', 'status']) makePrivateDir(join(abs, sub), false);
      key = realpathSync(abs);
    } catch (err) {
      throw systemError(`cannot open state folder ${abs}`, err);
    }
    let folder = folders.get(key);
    if (folder === undefined) {
      folder = { tail: Promise.resolve(), owner: new AsyncLocalStorage<LockContext>(), swept: false };
      folders.set(key, folder);
    }
    return new StateStore(abs, folder, options);
  }

  /** Runs fn while holding the in-process mutex and the cross-process lock; calls from inside fn's async call chain re-enter without waiting. */
  async withLock<T>(fn: () => Promise<T> | T): Promise<T> {
    // Re-entrant: this async call chain already holds the lock. The holder is tracked
    // through AsyncLocalStorage rather than a bare depth counter, which could not tell a
    // nested call from an unrelated concurrent one.
    if (this.folder.owner.getStore()?.active) return await fn();
    const leave = await this.enterQueue();
    try {
      const held = await this.acquire();
      const context: LockContext = { active: true };
      try {
        if (held.brokeStale || !this.folder.swept) this.sweep();
        return await this.folder.owner.run(context, fn);
      } finally {
        context.active = false;
        releaseFileLock(held);
      }
    } finally {
      leave();
    }
  }

  /**
   * A number that changes whenever any process commits a write (stored in DIR/generation,
   * bumped atomically by every write method). Lets the caller skip re-reading when nothing
   * changed. Cheap: one small file read. Read it *before* loading, so a write that lands
   * in between is noticed next time. 0 when nothing was ever written.
   */
  generation(): number {
    const text = this.readOptional(this.path('generation'));
    const n = text === undefined ? 0 : Number.parseInt(text, 10);
    return Number.isSafeInteger(n) ? n : 0;
  }

  /** Every stored domain: union of config/ and status/ files, keyed by name. */
  loadAll(): StoredDomain[] {
    const byName = new Map<string, StoredDomain>();
    for (const kind of ['config', 'status'] as const) {
      for (const name of this.listNames(kind)) {
        // Removed since the listing: a concurrent writer's doing, not an error.
        const text = this.readOptional(this.path(kind, name + XML_SUFFIX));
        if (text === undefined) continue;
        let entry = byName.get(name);
        if (entry === undefined) {
          entry = { name };
          byName.set(name, entry);
        }
        entry[kind] = text;
      }
    }
    return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** One stored domain, or undefined when it has neither config nor status. */
  load(name: string): StoredDomain | undefined {
    const file = fileName(name);
    const config = this.readOptional(this.path('config', file));
    const status = this.readOptional(this.path('status', file));
    if (config === undefined && status === undefined) return undefined;
    const entry: StoredDomain = { name };
    if (config !== undefined) entry.config = config;
    if (status !== undefined) entry.status = status;
    return entry;
  }

  /** Stores the persistent definition of `name` (replacing any). */
  writeConfig(name: string, xml: string): void {
    this.writeFile(this.path('config', this.writableName(name)), xml);
  }

  /** Forgets the persistent definition of `name`; no error if absent. */
  removeConfig(name: string): void {
    this.removeFile(this.path('config', this.writableName(name)));
  }

  /** Stores the live status of `name` (replacing any). */
  writeStatus(name: string, xml: string): void {
    this.writeFile(this.path('status', this.writableName(name)), xml);
  }

  /** Forgets the live status of `name`; no error if absent. */
  removeStatus(name: string): void {
    this.removeFile(this.path('status', this.writableName(name)));
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
      throw new VirtError(ErrorCode.READ_FAILED, `corrupt driver state ${path}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    if (!isPlainObject(value)) throw new VirtError(ErrorCode.READ_FAILED, `corrupt driver state ${path}: not an object`);
    return value;
  }

  /** Replaces the driver-wide state object. */
  writeDriverState(state: Record<string, unknown>): void {
    this.assertLocked();
    if (!isPlainObject(state)) throw new VirtError(ErrorCode.INVALID_ARG, 'driver state must be a plain object');
    this.writeFile(this.path('driver.json'), `${JSON.stringify(state, null, 2)}\n`);
  }

  private async enterQueue(): Promise<() => void> {
    const before = this.folder.tail;
    let leave!: () => void;
    const mine = new Promise<void>((done) => {
      leave = done;
    });
    this.folder.tail = before.then(() => mine);
    await before;
    return leave;
  }

  private async acquire() {
    try {
      return await acquireFileLock(this.path('lock'), { timeoutMs: this.lockTimeoutMs, onWait: this.onLockWait });
    } catch (err) {
      if (err instanceof LockTimeoutError) {
        throw new VirtError(
          ErrorCode.OPERATION_TIMEOUT,
          `timed out waiting for the state lock on ${this.dir} (held by pid ${err.holderPid || 'unknown'})`,
        );
      }
      throw systemError(`cannot take the state lock on ${this.dir}`, err);
    }
  }

  /**
   * Removes temp files of writers killed mid-write. Runs under the lock, where no other
   * writer can be active, once per process and again after breaking a dead holder's lock.
   * Best effort: leftovers are invisible to readers, so a failure here must not fail the caller.
   */
  private sweep(): void {
    for (const sub of ['', 'config', 'status']) {
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
        // Our own temp files are never in flight here: writes are synchronous.
        if (!m || (pid !== process.pid && isProcessAlive(pid))) continue;
        try {
          unlinkSync(join(dir, name));
        } catch {
          // Someone else swept it first, or it is not ours to remove.
        }
      }
    }
    try {
      sweepLockLeftovers(this.path('lock'));
    } catch {
      // As above: garbage only.
    }
    this.folder.swept = true;
  }

  private writableName(name: string): string {
    this.assertLocked();
    return fileName(name);
  }

  private assertLocked(): void {
    if (!this.folder.owner.getStore()?.active) {
      throw new VirtError(ErrorCode.INTERNAL_ERROR, `state folder ${this.dir} written without holding its lock`);
    }
  }

  private writeFile(path: string, text: string): void {
    this.assertLocked();
    try {
      writeFileAtomic(path, text);
    } catch (err) {
      throw systemError(`cannot write ${path}`, err);
    }
    this.bumpGeneration();
  }

  private removeFile(path: string): void {
    let removed: boolean;
    try {
      removed = unlinkDurable(path);
    } catch (err) {
      throw systemError(`cannot remove ${path}`, err);
    }
    // Nothing changed, so cached readers need not reload.
    if (removed) this.bumpGeneration();
  }

  private bumpGeneration(): void {
    const path = this.path('generation');
    try {
      // Read-modify-write is safe: every writer holds the lock.
      writeFileAtomic(path, `${this.generation() + 1}\n`);
    } catch (err) {
      throw systemError(`cannot write ${path}`, err);
    }
  }

  private listNames(kind: 'config' | 'status'): string[] {
    const dir = this.path(kind);
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw systemError(`cannot read ${dir}`, err);
    }
    const names: string[] = [];
    for (const file of files) {
      if (!file.endsWith(XML_SUFFIX)) continue;
      const name = file.slice(0, -XML_SUFFIX.length);
      // Files this store could not have written (e.g. `..xml`) are someone else's.
      if (isValidName(name)) names.push(name);
    }
    return names;
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

/** The file name for a domain name, refusing anything that could escape its folder. */
function fileName(name: string): string {
  const problem = nameProblem(name);
  if (problem !== undefined) {
    throw new VirtError(ErrorCode.INVALID_ARG, `invalid name for a state file ${JSON.stringify(name)}: ${problem}`);
  }
  return name + XML_SUFFIX;
}

function isValidName(name: string): boolean {
  return nameProblem(name) === undefined;
}

function nameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name === '') return 'empty';
  if (name === '.' || name === '..') return 'reserved';
  if (name.includes('/') || name.includes('\0')) return "contains '/' or NUL";
  // On Windows a backslash separates paths too.
  if (process.platform === 'win32' && name.includes('\\')) return "contains '\\'";
  if (Buffer.byteLength(name, 'utf8') + XML_SUFFIX.length > NAME_MAX_BYTES) return 'too long';
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
  const detail = (err as NodeJS.ErrnoException).message ?? String(err);
  return new VirtError(ErrorCode.SYSTEM_ERROR, `${what}: ${detail}`, { cause: err });
}
