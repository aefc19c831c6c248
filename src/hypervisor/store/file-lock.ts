/**
 * Cross-process exclusive lock on a file path, for the test driver's state folder.
 *
 * The lock file holds `<pid> <token> <start>`: the holder's pid, a random token naming
 * this particular acquisition, and (on Linux) the holder's start time from /proc, so a
 * recycled pid is not mistaken for the holder. It appears atomically with its content
 * (written to a temp file, then hard-linked into place; link fails if the name exists),
 * so nobody ever reads a half-written lock. The holder keeps the file open until it releases
 * the lock: that descriptor tells its own lock file from any other at release (same inode: the
 * inode cannot be reused while open), and the file's inode is freed when it is closed, in the
 * thread pool, not inside the release's unlink.
 *
 * A lock whose holder is dead is stale and gets broken. Breaking is the dangerous part:
 * two waiters may both see the same stale lock, one removes it, a third process takes
 * the lock, and the second then removes the *live* lock. To prevent that, removing the
 * stale lock with token T requires first creating `<path>.break-T` exclusively (itself a
 * lock of this same kind, so a breaker that dies mid-break is recovered from the same
 * way), then re-reading the lock and removing it only if it still carries T. Tokens are
 * never reused, so a late breaker finds a different token and leaves the lock alone.
 *
 * Limits: processes sharing a lock must see the same pids (same host and pid namespace);
 * on systems without /proc a recycled pid keeps a stale lock "alive" until the timeout.
 */
import { randomBytes } from 'node:crypto';
import { type BigIntStats, close, closeSync, fstatSync, linkSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { onNextTurn } from './atomic-write.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** Who holds a lock file, as read from it. */
export interface LockOwner {
  /** Holder's pid; 0 when the content is unreadable (not written by virtkit). */
  pid: number;
  /** Names this acquisition; for unreadable content, derived from inode and mtime. */
  token: string;
  /** Holder's start time in clock ticks since boot (Linux), for pid-reuse detection. */
  start?: string;
  /** Milliseconds since the lock file was last modified. */
  ageMs: number;
}

/** Options of {@link acquireFileLock}. */
export interface AcquireOptions {
  /** Give up after this many milliseconds with a {@link LockTimeoutError}. */
  timeoutMs: number;
  /** Called once per distinct live holder the caller starts waiting for. */
  onWait?: (pid: number) => void;
}

/** A held lock: pass it to {@link releaseFileLock}. */
export interface HeldLock {
  path: string;
  token: string;
  /** True when a stale lock of a dead holder had to be broken first (its writes may have been cut short). */
  brokeStale: boolean;
  /** The lock file, open while held (see the header); absent in a lock made by hand. */
  fd?: number;
}

/** Thrown by {@link acquireFileLock} when the timeout expires; the caller turns it into its own error. */
export class LockTimeoutError extends Error {
  /** The live holder at the time of giving up (0 when unknown). */
  readonly holderPid: number;
  constructor(path: string, holderPid: number) {
    super(`timed out waiting for lock ${path} (held by pid ${holderPid || 'unknown'})`);
    this.holderPid = holderPid;
  }
}

// Temp files of tryCreate (next to a lock or a guard); group 1 is the creator's pid.
const LOCK_TEMP_RE = /\.tmp-(\d+)-[0-9a-f]{16}$/;

/**
 * Unreadable lock content can only come from something other than virtkit (or a power
 * loss before the lock reached disk); it is treated as stale once it is this old, so a
 * foreign writer that is still busy writing it isn't robbed.
 */
const UNKNOWN_STALE_MS = 2000;

// Tokens this process currently holds. On globalThis so two copies of this module (say
// src via tsx and dist) agree, since a lock with our own pid is judged by this set.
const HELD_KEY = Symbol.for('virtkit.stateLock.heldTokens');
const globals = globalThis as unknown as Record<symbol, Set<string> | undefined>;
const heldTokens: Set<string> = globals[HELD_KEY] ?? new Set<string>();
globals[HELD_KEY] = heldTokens;

/** Takes the lock at `path`, waiting with backoff while a live process holds it. */
export async function acquireFileLock(path: string, options: AcquireOptions): Promise<HeldLock> {
  const token = newToken();
  const deadline = Date.now() + options.timeoutMs;
  let delay = 1;
  let brokeStale = false;
  let announced: string | undefined;
  for (;;) {
    const fd = tryCreate(path, token);
    if (fd !== undefined) {
      heldTokens.add(token);
      return { path, token, brokeStale, fd };
    }
    const owner = readOwner(path);
    // Released between our two looks: try again at once.
    if (owner === undefined) continue;
    if (isStale(owner)) {
      if (breakStale(path, owner)) {
        brokeStale = true;
        continue;
      }
    } else if (announced !== owner.token) {
      announced = owner.token;
      options.onWait?.(owner.pid);
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(path, owner.pid);
    // Jitter keeps waiters from retrying in lockstep; the cap bounds the hand-over latency.
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 40);
  }
}

/** Releases a lock taken by {@link acquireFileLock}; leaves it alone if it is no longer ours. */
export function releaseFileLock(lock: HeldLock): void {
  try {
    if (lock.fd === undefined ? readOwner(lock.path)?.token === lock.token : isOurFile(lock.path, lock.fd)) unlinkQuiet(lock.path);
  } finally {
    heldTokens.delete(lock.token);
    // After the unlink, so the inode is freed by this close, in the thread pool (on the next turn: onNextTurn).
    const fd = lock.fd;
    if (fd !== undefined) onNextTurn(() => close(fd, ignore));
  }
}

/** Whether `path` names the file open as `fd` (its own inode, which stays allocated while open). */
function isOurFile(path: string, fd: number): boolean {
  let there: BigIntStats;
  try {
    there = statSync(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  const mine = fstatSync(fd, { bigint: true });
  return there.ino === mine.ino && there.dev === mine.dev;
}

function ignore(): void {
  // Closing a file we only wrote a line to has nothing to report.
}

/**
 * Removes temp and guard files that killed processes left next to the lock at `path`.
 * Call only while holding that lock: a guard matters only while the lock carries the
 * token it names, and ours never does.
 */
export function sweepLockLeftovers(path: string): void {
  const prefix = `${basename(path)}.`;
  for (const name of readdirSync(dirname(path))) {
    if (!name.startsWith(prefix)) continue;
    const full = join(dirname(path), name);
    const tmp = LOCK_TEMP_RE.exec(name);
    if (tmp) {
      const pid = Number(tmp[1]);
      // Our own are never in flight here: tryCreate runs synchronously.
      if (pid === process.pid || !isProcessAlive(pid)) unlinkQuiet(full);
    } else if (name.startsWith(`${prefix}break-`)) {
      const owner = readOwner(full);
      if (owner !== undefined && isStale(owner)) unlinkQuiet(full);
    }
  }
}

/** Reads the holder of a lock file; undefined when there is no lock file. */
export function readOwner(path: string): LockOwner | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    // Content and identity from one descriptor, so they describe the same file.
    const st = fstatSync(fd);
    const text = readFileSync(fd, 'utf8');
    const ageMs = Date.now() - st.mtimeMs;
    const m = /^(\d{1,10}) ([0-9a-f]{16}) (\d+|-)\n$/.exec(text);
    const pid = m ? Number(m[1]) : 0;
    if (!m || pid <= 0) return { pid: 0, token: `u${st.ino}x${Math.floor(st.mtimeMs)}`, ageMs };
    return { pid, token: m[2]!, start: m[3] === '-' ? undefined : m[3], ageMs };
  } finally {
    closeSync(fd);
  }
}

/** Whether the holder named in a lock file is gone, so the lock may be broken. */
export function isStale(owner: LockOwner): boolean {
  if (owner.pid === 0) return owner.ageMs > UNKNOWN_STALE_MS;
  // Our own pid but not a token we hold: left by an earlier process that had the same
  // pid (common in containers, where every run is pid 1).
  if (owner.pid === process.pid) return !heldTokens.has(owner.token);
  return !isProcessAlive(owner.pid, owner.start);
}

/** Whether a process exists and (when `start` is given, on Linux) is the one that started at that tick. */
export function isProcessAlive(pid: number, start?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  const stat = procStat(pid);
  if (stat === undefined) return true;
  // A killed but not yet reaped child still answers kill(0), yet holds nothing any more.
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return start === undefined || start === stat.start;
}

/** Breaks the stale lock `owner` at `path`; false when another process is busy breaking it. */
function breakStale(path: string, owner: LockOwner): boolean {
  const guardPath = `${path}.break-${owner.token}`;
  const guardToken = newToken();
  let guardFd: number | undefined;
  for (;;) {
    guardFd = tryCreate(guardPath, guardToken);
    if (guardFd !== undefined) break;
    const guardOwner = readOwner(guardPath);
    if (guardOwner === undefined) continue;
    // A live breaker is on it; or a dead one left its guard, which we clear first.
    if (!isStale(guardOwner) || !breakStale(guardPath, guardOwner)) return false;
  }
  const guard: HeldLock = { path: guardPath, token: guardToken, brokeStale: false, fd: guardFd };
  heldTokens.add(guardToken);
  try {
    // Only the guard holder may remove a lock carrying this token, so what we read here
    // is still there when we unlink it.
    if (readOwner(path)?.token === owner.token) unlinkQuiet(path);
    return true;
  } finally {
    releaseFileLock(guard);
  }
}

/** Creates the lock file with complete content in one step: its descriptor, or undefined if it exists. */
function tryCreate(path: string, token: string): number | undefined {
  const tmp = `${path}.tmp-${process.pid}-${token}`;
  const content = Buffer.from(`${process.pid} ${token} ${selfStart() ?? '-'}\n`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    try {
      for (let off = 0; off < content.length; ) off += writeSync(fd, content, off);
      linkSync(tmp, path);
    } finally {
      unlinkQuiet(tmp);
    }
  } catch (err) {
    closeSync(fd);
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw err;
  }
  return fd;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function newToken(): string {
  return randomBytes(8).toString('hex');
}

let selfStartCache: string | null | undefined;
function selfStart(): string | undefined {
  if (selfStartCache === undefined) selfStartCache = procStat(process.pid)?.start ?? null;
  return selfStartCache ?? undefined;
}

/** State letter and start time (field 22) from /proc/PID/stat; undefined without /proc. */
function procStat(pid: number): { state: string; start: string } | undefined {
  if (process.platform !== 'linux') return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const start = fields[19];
  if (state === undefined || start === undefined || !/^\d+$/.test(start)) return undefined;
  return { state, start };
}
