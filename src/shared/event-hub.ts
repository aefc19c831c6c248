/**
 * The listeners of one connection, isolated from the driver that feeds them.
 *
 * A listener runs after the change it is told about has committed; whatever it does
 * (throw, return a rejecting promise) cannot undo that change, fail the call that
 * caused it, skip other listeners or wake-ups, or end the process. Its error goes to
 * the connection's `onListenerError` handler or, without one, becomes a process
 * warning (`VirtkitListenerError`, printed by Node on stderr, catchable with
 * `process.on('warning')`).
 */
import type { DomainEvent } from './events.js';

/** A domain event listener; a returned promise is watched for rejection. */
export type EventListener = (event: DomainEvent) => unknown;

/** Receives what a listener threw or rejected with, and the event it was handling. */
export type ListenerErrorHandler = (error: unknown, event: DomainEvent) => void;

/** The warning a listener's error becomes when the connection has no `onListenerError`. */
export class ListenerError extends Error {
  readonly event: DomainEvent;
  constructor(error: unknown, event: DomainEvent) {
    const what = error instanceof Error ? error.message : String(error);
    super(`a ${event.type} listener for domain '${event.domain.name}' failed: ${what}`, { cause: error });
    this.name = 'VirtkitListenerError';
    this.event = event;
  }
}

export class EventHub {
  readonly #listeners = new Set<EventListener>();
  readonly #onError: ListenerErrorHandler | undefined;

  constructor(onError?: ListenerErrorHandler) {
    this.#onError = onError;
  }

  get size(): number {
    return this.#listeners.size;
  }

  add(listener: EventListener): void {
    this.#listeners.add(listener);
  }

  delete(listener: EventListener): void {
    this.#listeners.delete(listener);
  }

  clear(): void {
    this.#listeners.clear();
  }

  /** Calls every listener present now with each event; never throws. */
  dispatch(events: readonly DomainEvent[]): void {
    if (this.#listeners.size === 0) return;
    for (const e of events) {
      for (const listener of [...this.#listeners]) {
        try {
          const out = listener(e);
          if (isThenable(out)) out.then(undefined, (err: unknown) => this.#report(err, e));
        } catch (err) {
          this.#report(err, e);
        }
      }
    }
  }

  #report(error: unknown, event: DomainEvent): void {
    if (this.#onError) {
      try {
        this.#onError(error, event);
        return;
      } catch (handlerError) {
        // The handler itself failed: fall through to the warning, naming both.
        error = new AggregateError([error, handlerError], 'listener and onListenerError both failed');
      }
    }
    process.emitWarning(new ListenerError(error, event));
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
