/** In-process mutual exclusion: one holder at a time, FIFO, and nothing kept for idle keys. */

/** A FIFO mutex; an uncontended `run` costs no extra wait. */
export class Mutex {
  #busy = false;
  readonly #waiting: (() => void)[] = [];

  get idle(): boolean {
    return !this.#busy && this.#waiting.length === 0;
  }

  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.#busy) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#busy = true;
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      // Handed straight to the next waiter: #busy stays set, so nobody can slip in between.
      if (next) next();
      else this.#busy = false;
    }
  }
}

/** One mutex per key, created on demand and dropped when idle (ten thousand domains keep none). */
export class KeyedMutex {
  readonly #locks = new Map<string, Mutex>();

  async run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    let m = this.#locks.get(key);
    if (!m) {
      m = new Mutex();
      this.#locks.set(key, m);
    }
    try {
      return await m.run(fn);
    } finally {
      if (m.idle && this.#locks.get(key) === m) this.#locks.delete(key);
    }
  }
}
