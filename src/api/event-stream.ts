/**
 * Turns a driver subscription into an async iterator that buffers events until they are read.
 * The buffer is bounded: past `maxBuffered` unread events the oldest are dropped, counted in
 * `dropped`, and the first drop of a stream raises one process warning (VirtkitEventsDropped).
 */
import type { Driver, Unsubscribe } from '../drivers/driver.js';
import type { DomainEvent, DomainEventType } from '../shared/events.js';

export interface EventFilter {
  /** Only these event types. */
  types?: DomainEventType[];
  /** Only events of this domain (name or UUID). */
  domain?: string;
}

/** Default cap on unread events per iterator. */
export const DEFAULT_MAX_BUFFERED_EVENTS = 10_000;

export interface EventStreamOptions extends EventFilter {
  /** Unread events kept at most (default 10,000); older ones are dropped first. */
  maxBuffered?: number;
}

/** What `Connection.events()` returns. */
export interface EventStream extends AsyncIterableIterator<DomainEvent> {
  /** Resolves once events are being delivered (remote drivers subscribe with a round trip); rejects if subscribing failed. */
  readonly ready: Promise<void>;
  /** Events dropped because more than `maxBuffered` were waiting unread. */
  readonly dropped: number;
}

export function matchesFilter(e: DomainEvent, filter: EventFilter): boolean {
  if (filter.types && !filter.types.includes(e.type)) return false;
  if (filter.domain !== undefined && e.domain.name !== filter.domain && e.domain.uuid !== filter.domain) return false;
  return true;
}

export function eventStream(driver: Driver, options: EventStreamOptions, signal?: AbortSignal): EventStream {
  const max = options.maxBuffered ?? DEFAULT_MAX_BUFFERED_EVENTS;
  const queue: DomainEvent[] = [];
  let dropped = 0;
  let wake: ((r: IteratorResult<DomainEvent>) => void) | undefined;
  let fail: ((err: unknown) => void) | undefined;
  let failure: { error: unknown } | undefined;
  let done = false;

  const push = (e: DomainEvent): void => {
    if (done || !matchesFilter(e, options)) return;
    if (wake) {
      const w = wake;
      wake = undefined;
      fail = undefined;
      w({ value: e, done: false });
      return;
    }
    queue.push(e);
    if (queue.length > max) {
      queue.shift();
      if (dropped++ === 0) {
        process.emitWarning(`an events() iterator holds ${max} unread events; the oldest are being dropped (see its 'dropped' count)`, {
          type: 'VirtkitEventsDropped',
        });
      }
    }
  };

  const subscribed: Promise<Unsubscribe> = driver.subscribe(push);
  const ready = subscribed.then(() => undefined);
  // Failure is reported through next() (and ready, for those who await it); never unhandled.
  ready.catch((error: unknown) => {
    failure = { error };
    if (fail) {
      const f = fail;
      wake = undefined;
      fail = undefined;
      done = true;
      f(error);
    }
  });

  const finish = (): IteratorResult<DomainEvent> => {
    if (!done) {
      done = true;
      signal?.removeEventListener('abort', onAbort);
      subscribed.then(
        (off) => Promise.resolve(off()).catch(() => undefined),
        () => undefined,
      );
      if (wake) {
        const w = wake;
        wake = undefined;
        fail = undefined;
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
    ready,
    get dropped() {
      return dropped;
    },
    next(): Promise<IteratorResult<DomainEvent>> {
      const value = queue.shift();
      if (value) return Promise.resolve({ value, done: false });
      if (failure && !done) {
        done = true;
        return Promise.reject(failure.error);
      }
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => {
        wake = resolve;
        fail = reject;
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
