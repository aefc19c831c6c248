/** Event types, defined once in src/shared (below every layer) and re-exported for API users. */
export type { DeviceEventData, DomainEvent, DomainEventType, DomainRef, EventOf, LifecycleEventData } from '../shared/events.js';
