/**
 * Events shared through a state folder: every committed event is appended to
 * DIR/events.jsonl, and connections with listeners follow the file, so an
 * `event --loop` in one process sees what another process's calls caused —
 * as a libvirt daemon delivers events to every connection.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readSync, statSync, writeSync, ftruncateSync, constants } from 'node:fs';
import { join } from 'node:path';
import type { DomainEvent } from '../../shared/events.js';

/** The log is cut back to nothing past this size (a follower that lags that far may miss events). */
const MAX_LOG_BYTES = 1024 * 1024;
const POLL_MS = 50;

interface Line {
  src: string;
  e: DomainEvent;
}

export class EventLog {
  readonly #path: string;
  /** Identifies this connection's own lines, which it has already delivered in-process. */
  readonly #id = randomUUID();
  #timer: NodeJS.Timeout | undefined;
  #pos = 0;
  #partial = '';

  constructor(dir: string) {
    this.#path = join(dir, 'events.jsonl');
  }

  /** Appends events; called with the state lock held, so lines never interleave. */
  append(events: DomainEvent[]): void {
    if (events.length === 0) return;
    const fd = openSync(this.#path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
    try {
      if (statSync(this.#path).size > MAX_LOG_BYTES) ftruncateSync(fd, 0);
      writeSync(fd, events.map((e) => JSON.stringify({ src: this.#id, e } satisfies Line) + '\n').join(''));
    } finally {
      closeSync(fd);
    }
  }

  /** Starts delivering other connections' new events to `deliver`. */
  follow(deliver: (e: DomainEvent) => void): void {
    if (this.#timer) return;
    this.#pos = this.#size();
    this.#partial = '';
    this.#timer = setInterval(() => this.#poll(deliver), POLL_MS);
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #size(): number {
    try {
      return statSync(this.#path).size;
    } catch {
      return 0;
    }
  }

  #poll(deliver: (e: DomainEvent) => void): void {
    const size = this.#size();
    if (size < this.#pos) {
      // Cut back by a writer: start over from the top.
      this.#pos = 0;
      this.#partial = '';
    }
    if (size === this.#pos) return;
    const buf = Buffer.alloc(size - this.#pos);
    let fd: number;
    try {
      fd = openSync(this.#path, 'r');
    } catch {
      return;
    }
    try {
      readSync(fd, buf, 0, buf.length, this.#pos);
    } finally {
      closeSync(fd);
    }
    this.#pos = size;
    const text = this.#partial + buf.toString('utf8');
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const raw of lines) {
      if (!raw) continue;
      let line: Line;
      try {
        line = JSON.parse(raw) as Line;
      } catch {
        continue; // a line torn by a cut-back: skip it
      }
      if (line.src !== this.#id) deliver(line.e);
    }
  }
}
