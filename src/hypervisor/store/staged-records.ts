/**
 * Domain records written ahead of their commit (StateStore.stageDomain): the record is formatted
 * and written, flushed, under a temp name in the thread pool while the caller waits for something
 * else (a hypervisor's answer); a commit of exactly those bytes then only renames it.
 */
import { unlinkSync } from 'node:fs';
import { renameOver, tempPathIn, writeTempDurable } from './atomic-write.js';
import { crashPoint } from './crash-points.js';

interface StagedRecord {
  /** Undefined until made (the turn after stage). */
  bytes: Buffer | undefined;
  tmp: string;
  /** The temp file is complete and flushed. */
  ready: boolean;
  /** No commit will take it: its temp file goes (at once, or when its write settles). */
  dropped: boolean;
  settled: Promise<void>;
}

/** Temp files of staged records of this process (written in the thread pool, or waiting for their commit): not leftovers. */
const stagedTemps = new Set<string>();

/** Whether `path` is the temp file of a record this process staged (a sweep must keep it). */
export function isStagedTemp(path: string): boolean {
  return stagedTemps.has(path);
}

/** The records one store has staged, by domain name. */
export class StagedRecords {
  readonly #records = new Map<string, StagedRecord>();

  /** Stages the record `make` returns (asked for on the next turn) as a temp file in `dir`. */
  stage(name: string, dir: string, make: () => Buffer): void {
    this.drop(name);
    const rec: StagedRecord = { bytes: undefined, tmp: tempPathIn(dir), ready: false, dropped: false, settled: Promise.resolve() };
    // Made on the next turn of the event loop: what the caller sends the hypervisor right after this
    // goes out first, and the record is formatted while the hypervisor works.
    rec.settled = new Promise<void>((next) => setImmediate(next))
      .then(() => {
        if (rec.dropped) return false;
        const bytes = make();
        rec.bytes = bytes;
        stagedTemps.add(rec.tmp);
        return writeTempDurable(rec.tmp, bytes).then(() => true);
      })
      .then(
        (written) => {
          rec.ready = written;
          if (rec.dropped && written) removeStaged(rec.tmp);
        },
        () => {
          // Nothing staged: the commit writes as usual.
          stagedTemps.delete(rec.tmp);
        },
      );
    this.#records.set(name, rec);
  }

  /** Resolves once the record staged for `name`, if any, is written (or failed). */
  async settled(name: string): Promise<void> {
    await this.#records.get(name)?.settled;
  }

  /** Forgets the record staged for `name`, removing its temp file once written. */
  drop(name: string): void {
    const rec = this.#records.get(name);
    if (!rec) return;
    this.#records.delete(name);
    rec.dropped = true;
    if (rec.ready) removeStaged(rec.tmp);
  }

  /** Renames the staged record of `name` into `path` when it holds exactly `bytes`; false otherwise (it is dropped). */
  take(name: string, bytes: Buffer, path: string): boolean {
    const rec = this.#records.get(name);
    if (!rec) return false;
    if (!rec.ready || !rec.bytes?.equals(bytes)) {
      this.drop(name);
      return false;
    }
    this.#records.delete(name);
    crashPoint('record-staged');
    try {
      renameOver(rec.tmp, path);
    } catch {
      removeStaged(rec.tmp);
      return false;
    }
    stagedTemps.delete(rec.tmp);
    return true;
  }
}

function removeStaged(tmp: string): void {
  stagedTemps.delete(tmp);
  try {
    unlinkSync(tmp);
  } catch {
    // Gone already.
  }
}
