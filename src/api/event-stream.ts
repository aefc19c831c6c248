/** Turns a driver subscription into an async iterator that buffers events until they are read. */
import type { Driver } from '../drivers/driver.js';
import type { DomainEvent, DomainEventType } from './events.js';

export interface EventFilter {
  /** Only these event types. */
  types?: DomainEventType[];
  /** Only events of this domain (name or UUID). */
  domain?: string;
}

export function matchesFilter(e: DomainEvent, filter: EventFilter): boolean {
  if (filter.types && !filter.types.includes(e.type)) return false;
  if (filter.domain !== undefined && e.domain.name !== filter.domain && e.domain.uuid !== filter.domain) return false;
  return true;
}

export function eventStream(driver: Driver, filter: EventFilter, signal?: AbortSignal): AsyncIterableIterator<DomainEvent> {
  const queue: DomainEvent[] = [];
  let wake: ((r: IteratorResult<DomainEvent>) => void) | undefined;
  let done = false;
  const unsubscribe = driver.subscribe((e) => {
    if (done || !matchesFilter(e, filter)) return;
    if (wake) {
      const w = wake;
      wake = undefined;
      w({ value: e, done: false });
    } else queue.push(e);
  });
  const finish = (): IteratorResult<DomainEvent> => {
    if (!done) {
      done = true;
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      if (wake) {
        const w = wake;
        wake = undefined;
        w({ value: undefined, done: true });
      }
    }
    return { value: undefined, done: true };
  };
  const onAbort = (): void => {
    finish();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) finish();

  return {
    next(): Promise<IteratorResult<DomainEvent>> {
      const e = queue.shift();
      if (e) return Promise.resolve({ value: e, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        wake = resolve;
      });
    },
    return(): Promise<IteratorResult<DomainEvent>> {
      return Promise.resolve(finish());
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
