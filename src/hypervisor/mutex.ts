/** In-process mutual exclusion: one holder at a time, FIFO, and nothing kept for idle keys. */

/** Whether `v` is a promise-like value fn returned (then the lock is held until it settles). */
function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * A FIFO mutex. An uncontended `run` costs no extra wait, and a function that returns without a
 * promise (the driver lock's table checks) releases the lock before `run` returns: every call on a
 * domain takes locks, and each async layer here cost promises and microtask turns per call.
 */
export class Mutex {
  #busy = false;
  readonly #waiting: (() => void)[] = [];

  get idle(): boolean {
    return !this.#busy && this.#waiting.length === 0;
  }

  run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.#busy) return new Promise<void>((resolve) => this.#waiting.push(resolve)).then(() => this.#hold(fn));
    this.#busy = true;
    return this.#hold(fn);
  }

  /** Runs fn with the lock already taken; releases it once fn's result settles. */
  #hold<T>(fn: () => Promise<T> | T): Promise<T> {
    let out: Promise<T> | T;
    try {
      out = fn();
    } catch (err) {
      this.#release();
      return Promise.reject(err);
    }
    if (!isThenable(out)) {
      this.#release();
      return Promise.resolve(out);
    }
    return Promise.resolve(out).then(
      (v) => {
        this.#release();
        return v;
      },
      (err: unknown) => {
        this.#release();
        throw err;
      },
    );
  }

  #release(): void {
    const next = this.#waiting.shift();
    // Handed straight to the next waiter: #busy stays set, so nobody can slip in between.
    if (next) next();
    else this.#busy = false;
  }
}

/** One mutex per key, created on demand and dropped when idle (ten thousand domains keep none). */
export class KeyedMutex {
  readonly #locks = new Map<string, Mutex>();

  run<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    let m = this.#locks.get(key);
    if (!m) {
      m = new Mutex();
      this.#locks.set(key, m);
    }
    const held = m.run(fn);
    // fn finished without waiting (the lock is already released): dropped now, without a turn.
    if (m.idle) {
      this.#drop(key, m);
      return held;
    }
    const lock = m;
    return held.then(
      (v) => {
        this.#drop(key, lock);
        return v;
      },
      (err: unknown) => {
        this.#drop(key, lock);
        throw err;
      },
    );
  }

  #drop(key: string, m: Mutex): void {
    if (m.idle && this.#locks.get(key) === m) this.#locks.delete(key);
  }
}
