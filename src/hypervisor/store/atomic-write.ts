/**
 * Crash-safe file replacement for state folders: a reader, or a
 * process started after a SIGKILL or power loss, sees either the old or the new
 * content of a file, never a torn mix.
 */
import { randomBytes } from 'node:crypto';
import { close, closeSync, constants, fchmodSync, fsync, fsyncSync, open, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Matches the temp files of {@link writeFileAtomic}; group 1 is the writer's pid. */
export const TEMP_FILE_RE = /^\.tmp-(\d+)-[0-9a-f]{12}$/;

/** Called between the steps of {@link writeFileAtomic} (crash-test hooks). */
export interface WriteSteps {
  /** The data is durable under the temp name; the target is untouched. */
  staged?(): void;
  /** The target has the new data; the rename is not yet durable. */
  renamed?(): void;
}

/** A fresh temp file name in `dir` (see TEMP_FILE_RE). */
export function tempPathIn(dir: string): string {
  // Fixed-length name independent of the target, so a target name near NAME_MAX still
  // fits, and it never ends in `.xml`, so a directory listing can't mistake it for data.
  return join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/**
 * Writes a new temp file (see tempPathIn) and flushes it, in libuv's thread pool: the first half
 * of writeFileAtomic, for a caller that renames it later. On failure the file is removed.
 */
export async function writeTempDurable(tmp: string, data: Uint8Array, mode = 0o600): Promise<void> {
  const fh = await openAsync(tmp, 'wx', mode);
  try {
    try {
      await fh.chmod(mode);
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Never created, or removed already.
    }
    throw err;
  }
}

/**
 * Replaces `path` with `data` atomically and durably (temp file + fsync + rename + fsync of the
 * directory). `lazyDir`: the directory's fsync (what makes the rename itself survive a power loss)
 * runs in the thread pool after the return (fsyncDirSoon), for a replacement whose old and new
 * content are equally good after a power loss; the data is flushed before the rename either way.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, steps?: WriteSteps, lazyDir = false): void {
  const dir = dirname(path);
  const tmp = tempPathIn(dir);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  // 'wx' (O_EXCL) never follows a symlink planted at the temp name.
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      // The umask may have narrowed the mode at creation; never widen, just make it exact.
      fchmodSync(fd, mode);
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      // Without this, rename may reach the disk before the data and a power loss leaves an empty file.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    steps?.staged?.();
    renameOver(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or never created: nothing to clean up.
    }
    throw err;
  }
  steps?.renamed?.();
  if (lazyDir) fsyncDirSoon(dir);
  else fsyncDir(dir);
}

/** What onNextTurn has queued. */
const nextTurn: (() => void)[] = [];

/**
 * Runs `fn` on the next turn of the event loop, with whatever else was queued meanwhile: after the
 * caller's own continuation. For thread-pool work nobody waits for (closing a descriptor, a lazy
 * fsync of a folder): handing a job to the pool costs this thread 20-50 us each, worth keeping out
 * of a call's last steps.
 */
export function onNextTurn(fn: () => void): void {
  if (nextTurn.length === 0) setImmediate(runNextTurn);
  nextTurn.push(fn);
}

function runNextTurn(): void {
  for (const fn of nextTurn.splice(0)) {
    try {
      fn();
    } catch {
      // Best-effort work only (see onNextTurn); one failure must not skip the rest.
    }
  }
}

/**
 * renameSync(tmp, path), with the file it replaces held open across the rename and closed in the
 * thread pool afterwards (onNextTurn): its inode is then freed there, not inside the rename. On ext4, freeing it
 * in rename took 1.6 ms at the median (p90 3.8) on the bench host with other writes in flight,
 * 0.1 ms held (the open included). What is on disk is the same either way, at every instant; a
 * process killed before the close has its files closed by the kernel.
 */
export function renameOver(tmp: string, path: string): void {
  const old = openReplaced(path);
  try {
    renameSync(tmp, path);
  } finally {
    if (old !== undefined) onNextTurn(() => close(old, ignore));
  }
}

/** The file at `path`, opened to keep its inode past a rename over it; undefined when that is not possible (or on Windows). */
function openReplaced(path: string): number | undefined {
  // Windows may refuse to replace a file that is open.
  if (process.platform === 'win32') return undefined;
  try {
    // Never blocks (a FIFO planted there) nor follows a symlink: only a regular file's inode is worth keeping.
    return openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

function ignore(): void {
  // A close of a read-only descriptor has nothing to report.
}

/** Directories with an fsync under way in the thread pool, and whether another is due after it. */
const dirSyncs = new Map<string, { again: boolean }>();

/**
 * fsyncDir off the event loop: starts on the next turn (onNextTurn), or after the one under way for
 * `dir` (renames made meanwhile are covered by the next). Best effort: an error is ignored (the data is flushed; only
 * the rename's durability against a power loss waits for a later fsync of the folder).
 */
export function fsyncDirSoon(dir: string): void {
  if (process.platform === 'win32') return;
  const running = dirSyncs.get(dir);
  if (running) {
    running.again = true;
    return;
  }
  const state = { again: false };
  dirSyncs.set(dir, state);
  const done = (): void => {
    if (state.again) {
      state.again = false;
      run();
    } else dirSyncs.delete(dir);
  };
  const run = (): void => {
    open(dir, 'r', (err, fd) => {
      if (err) return done();
      fsync(fd, () => close(fd, done));
    });
  };
  onNextTurn(run);
}

/** Removes `path` durably; returns false when it did not exist. */
export function unlinkDurable(path: string): boolean {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  fsyncDir(dirname(path));
  return true;
}

/** Flushes a directory's entries (creations, renames, removals) to disk. */
export function fsyncDir(dir: string): void {
  // Windows can't open a directory for fsync, and NTFS journals renames itself.
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
