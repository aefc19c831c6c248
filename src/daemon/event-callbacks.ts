/**
 * One client's domain event registrations, and the messages that deliver events to it.
 * libvirt has two styles: callback registrations (CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, an id
 * per registration, optionally one domain, every message carrying that id) and the legacy ones
 * (one registration per event id, messages without an id). The driver is subscribed once, while
 * the client has at least one registration.
 */
import type { Driver, Unsubscribe } from '../drivers/driver.js';
import { ErrorCode, virtError } from '../errors.js';
import type { DomainEvent, DomainRef } from '../shared/events.js';
import { EventId } from '../shared/flags.js';
import type { ProcedureInfo } from '../rpc/codec.js';
import { remoteProcedures as P } from '../rpc/generated/remote-protocol.js';
import { toWireDomain } from '../rpc/wire.js';

/** virDomainEventID values run from 0 to VIR_DOMAIN_EVENT_ID_LAST - 1 (27 in libvirt 9.0). */
export const EVENT_ID_LAST = 27;

interface Registration {
  eventID: number;
  /** UUID of the only domain wanted, or null for all. */
  uuid: string | null;
  legacy: boolean;
}

export type SendMessage = <A>(proc: ProcedureInfo<A, unknown>, body: A) => void;

const eventIdOf: Record<DomainEvent['type'], number> = {
  lifecycle: EventId.LIFECYCLE,
  'device-added': EventId.DEVICE_ADDED,
  'device-removed': EventId.DEVICE_REMOVED,
  'device-removal-failed': EventId.DEVICE_REMOVAL_FAILED,
};

export class EventCallbacks {
  readonly #send: SendMessage;
  readonly #registrations = new Map<number, Registration>();
  #nextId = 1;
  #unsubscribe: Unsubscribe | undefined;
  #subscribing: Promise<void> | undefined;

  constructor(send: SendMessage) {
    this.#send = send;
  }

  get count(): number {
    return this.#registrations.size;
  }

  /** CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY: returns the new callback id. */
  async register(driver: Driver, eventID: number, dom: DomainRef | null): Promise<number> {
    checkEventId(eventID);
    await this.#subscribe(driver);
    const id = this.#nextId++;
    this.#registrations.set(id, { eventID, uuid: dom?.uuid ?? null, legacy: false });
    return id;
  }

  async deregister(callbackID: number): Promise<void> {
    const r = this.#registrations.get(callbackID);
    if (!r || r.legacy) throw virtError(ErrorCode.INVALID_ARG, `callback ID ${callbackID} not registered`);
    this.#registrations.delete(callbackID);
    await this.#maybeUnsubscribe();
  }

  /** Legacy CONNECT_DOMAIN_EVENT_REGISTER_ANY / REGISTER: one per event id. */
  async registerLegacy(driver: Driver, eventID: number): Promise<void> {
    checkEventId(eventID);
    for (const r of this.#registrations.values()) {
      if (r.legacy && r.eventID === eventID) throw virtError(ErrorCode.INTERNAL_ERROR, `domain event ${eventID} already registered`);
    }
    await this.#subscribe(driver);
    this.#registrations.set(this.#nextId++, { eventID, uuid: null, legacy: true });
  }

  async deregisterLegacy(eventID: number): Promise<void> {
    for (const [id, r] of this.#registrations) {
      if (r.legacy && r.eventID === eventID) {
        this.#registrations.delete(id);
        await this.#maybeUnsubscribe();
        return;
      }
    }
    throw virtError(ErrorCode.INTERNAL_ERROR, `domain event ${eventID} not registered`);
  }

  /** Drops every registration (connection closed). */
  async clear(): Promise<void> {
    this.#registrations.clear();
    await this.#maybeUnsubscribe();
  }

  async #subscribe(driver: Driver): Promise<void> {
    if (this.#unsubscribe) return;
    this.#subscribing ??= driver.subscribe((e) => this.#deliver(e)).then((off) => {
      this.#unsubscribe = off;
    });
    try {
      await this.#subscribing;
    } finally {
      this.#subscribing = undefined;
    }
  }

  async #maybeUnsubscribe(): Promise<void> {
    if (this.#registrations.size > 0 || !this.#unsubscribe) return;
    const off = this.#unsubscribe;
    this.#unsubscribe = undefined;
    await off();
  }

  #deliver(e: DomainEvent): void {
    const eventID = eventIdOf[e.type];
    for (const [callbackID, r] of this.#registrations) {
      if (r.eventID !== eventID || (r.uuid !== null && r.uuid !== e.domain.uuid)) continue;
      const dom = toWireDomain(e.domain);
      if (e.type === 'lifecycle') {
        const msg = { dom, event: e.event, detail: e.detail };
        if (r.legacy) this.#send(P.DOMAIN_EVENT_LIFECYCLE, msg);
        else this.#send(P.DOMAIN_EVENT_CALLBACK_LIFECYCLE, { callbackID, msg });
      } else if (e.type === 'device-removed') {
        const msg = { dom, devAlias: e.alias };
        if (r.legacy) this.#send(P.DOMAIN_EVENT_DEVICE_REMOVED, msg);
        else this.#send(P.DOMAIN_EVENT_CALLBACK_DEVICE_REMOVED, { callbackID, msg });
      } else if (e.type === 'device-added') {
        this.#send(P.DOMAIN_EVENT_CALLBACK_DEVICE_ADDED, { callbackID, dom, devAlias: e.alias });
      } else {
        this.#send(P.DOMAIN_EVENT_CALLBACK_DEVICE_REMOVAL_FAILED, { callbackID, dom, devAlias: e.alias });
      }
    }
  }
}

function checkEventId(eventID: number): void {
  if (eventID < 0 || eventID >= EVENT_ID_LAST) throw virtError(ErrorCode.INTERNAL_ERROR, `unsupported event ID ${eventID}`);
}
