/**
 * Crash-safe file replacement for state folders: a reader, or a
 * process started after a SIGKILL or power loss, sees either the old or the new
 * content of a file, never a torn mix.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
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

/** Replaces `path` with `data` atomically and durably (temp file + fsync + rename + fsync of the directory). */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, steps?: WriteSteps): void {
  const dir = dirname(path);
  // Fixed-length name independent of the target, so a target name near NAME_MAX still
  // fits, and it never ends in `.xml`, so a directory listing can't mistake it for data.
  const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
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
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // Already renamed or never created: nothing to clean up.
    }
    throw err;
  }
  steps?.renamed?.();
  fsyncDir(dir);
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
