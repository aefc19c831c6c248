/** Domain events as virtkit delivers them: typed listeners and async iterators. */

/** Identity of a domain as events and lookups report it. */
export interface DomainRef {
  name: string;
  uuid: string;
  /** -1 when the domain is not running. */
  id: number;
}

export interface LifecycleEventData {
  type: 'lifecycle';
  domain: DomainRef;
  /** LifecycleEvent value (DEFINED, STARTED, ...). */
  event: number;
  /** LifecycleDetail value. */
  detail: number;
}

export interface DeviceEventData {
  type: 'device-added' | 'device-removed' | 'device-removal-failed';
  domain: DomainRef;
  /** Alias of the device, e.g. `net1`, `virtio-disk2`. */
  alias: string;
  /**
   * device-removed / device-removal-failed: the id of the detach request that caused it (the
   * contract's `requestId`), when one did. Absent for devices that left without a request.
   */
  requestId?: string;
}

export type DomainEvent = LifecycleEventData | DeviceEventData;
export type DomainEventType = DomainEvent['type'];
export type EventOf<T extends DomainEventType> = Extract<DomainEvent, { type: T }>;
