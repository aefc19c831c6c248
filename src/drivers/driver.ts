/** The Driver interface, defined in src/shared (the engine in src/hypervisor implements it too), re-exported here for drivers. */
export type {
  AttachResult,
  DetachResult,
  DomainInfo,
  DomainStateInfo,
  Driver,
  EventListener,
  Unsubscribe,
} from '../shared/driver.js';
export type { BlockInfo, ConsoleStream, DomainInterface, InterfaceAddress, NetworkInfo, NodeInfo, StoragePoolInfo, StorageVolInfo } from '../shared/host-types.js';
