/** virtkit: libvirt-compatible domain XML, device hot-plug and drivers, in TypeScript. */
export { Connection, DEFAULT_URI } from './api/connection.js';
export { Domain } from './api/domain.js';
export * from './api/flags.js';
export type { DomainEvent, DomainEventType, DomainRef, DeviceEventData, LifecycleEventData, EventOf } from './api/events.js';
export { DEFAULT_MAX_BUFFERED_EVENTS } from './api/event-stream.js';
export type { EventFilter, EventStream, EventStreamOptions } from './api/event-stream.js';
export { ListenerError } from './shared/event-hub.js';
export type { EventListener, ListenerErrorHandler } from './shared/event-hub.js';
export type { AttachResult, DetachResult, DomainInfo, DomainStateInfo, Driver, Unsubscribe } from './drivers/driver.js';
export type {
  BlockInfo,
  ConsoleStream,
  DomainInterface,
  InterfaceAddress,
  NetworkInfo,
  NodeInfo,
  StoragePoolInfo,
  StorageVolInfo,
} from './shared/host-types.js';
export type { OpenOptions } from './drivers/registry.js';
export type { DetachOptions, DetachOutcome, PendingDevice, PendingReason, PendingState } from './shared/hotplug-contract.js';
export { HOTPLUG_NAMESPACE } from './shared/hotplug-contract.js';
export type { ApplyOptions, ApplyResult, DeviceAction, DevicePlan, OperationResult, OperationStatus, PlannedOperation, RestartEntry } from './shared/declarative.js';
export { VirtError, ErrorCode, ErrorDomain, isVirtError } from './errors.js';
export * as xml from './xml/index.js';
export * as conf from './conf/index.js';
export {
  buildAddressElement,
  buildDiskElement,
  buildDiskMatchXml,
  buildDiskXml,
  buildInterfaceElement,
  buildInterfaceMatchXml,
  buildInterfaceXml,
  buildMediaChangeXml,
  findDiskElement,
} from './api/device-builders.js';
export type { DiskBuildOptions, InterfaceBuildOptions, MediaAction, MediaChangeOptions } from './api/device-builders.js';
export { listDisks, listInterfaces } from './api/device-summaries.js';
export type { DiskSummary, InterfaceSummary } from './api/device-summaries.js';
