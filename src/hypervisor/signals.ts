/**
 * The unplug waiter, shared by every backend: a detach waiting for its guest sleeps here
 * (holding the domain's lock, like libvirt's job) until the backend reports news for the
 * domain — the test backend when its simulated guest answers, the QEMU backend on
 * DEVICE_DELETED — or the timeout passes. Woken, it reconciles and looks again.
 */
export class DomainSignals {
  readonly #waiting = new Map<string, Set<() => void>>();

  /** Resolves true at the next signal for `uuid`, false after `ms`. */
  wait(uuid: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      let set = this.#waiting.get(uuid);
      if (!set) {
        set = new Set();
        this.#waiting.set(uuid, set);
      }
      const waiter = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        set.delete(waiter);
        if (set.size === 0 && this.#waiting.get(uuid) === set) this.#waiting.delete(uuid);
        resolve(false);
      }, ms);
      set.add(waiter);
    });
  }

  /** Wakes everything waiting on `uuid`; false when nothing was. */
  signal(uuid: string): boolean {
    const set = this.#waiting.get(uuid);
    if (!set) return false;
    this.#waiting.delete(uuid);
    for (const w of set) w();
    return true;
  }

  wakeAll(): void {
    for (const uuid of [...this.#waiting.keys()]) this.signal(uuid);
  }
}
