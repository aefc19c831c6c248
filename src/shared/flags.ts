/** libvirt's flag and enum values (include/libvirt/libvirt-domain.h). Shared by every layer; spelled only here. */

/** virDomainModificationImpact / virDomainDeviceModifyFlags. */
export const DeviceModify = { CURRENT: 0, LIVE: 1, CONFIG: 2, FORCE: 4 } as const;
/** Alias kept for readers who know libvirt's VIR_DOMAIN_AFFECT_* names. */
export const Affect = { CURRENT: 0, LIVE: 1, CONFIG: 2 } as const;

/** virDomainXMLFlags. */
export const DomainXML = { SECURE: 1, INACTIVE: 2, UPDATE_CPU: 4, MIGRATABLE: 8 } as const;

/** virDomainDefineFlags. */
export const DomainDefine = { VALIDATE: 1 } as const;

/** virDomainCreateFlags. */
export const DomainStart = { PAUSED: 1, AUTODESTROY: 2, BYPASS_CACHE: 4, FORCE_BOOT: 8, VALIDATE: 16 } as const;

/** virDomainDestroyFlagsValues. */
export const DomainDestroy = { GRACEFUL: 1, REMOVE_LOGS: 2 } as const;

/** virDomainShutdownFlagValues. */
export const DomainShutdown = { ACPI_POWER_BTN: 1, GUEST_AGENT: 2, INITCTL: 4, SIGNAL: 8, PARAVIRT: 16 } as const;

/** virDomainUndefineFlagsValues. */
export const DomainUndefine = {
  MANAGED_SAVE: 1,
  SNAPSHOTS_METADATA: 2,
  NVRAM: 4,
  KEEP_NVRAM: 8,
  CHECKPOINTS_METADATA: 16,
  TPM: 32,
  KEEP_TPM: 64,
} as const;

/** virConnectListAllDomainsFlags. */
export const ListDomains = {
  ACTIVE: 1,
  INACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  RUNNING: 16,
  PAUSED: 32,
  SHUTOFF: 64,
  OTHER: 128,
  MANAGEDSAVE: 256,
  NO_MANAGEDSAVE: 512,
  AUTOSTART: 1024,
  NO_AUTOSTART: 2048,
  HAS_SNAPSHOT: 4096,
  NO_SNAPSHOT: 8192,
  HAS_CHECKPOINT: 16384,
  NO_CHECKPOINT: 32768,
} as const;

/** virDomainState. */
export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;
export type DomainState = (typeof DomainState)[keyof typeof DomainState];

/** State reasons virtkit reports (virDomainRunningReason etc.). */
export const StateReason = {
  RUNNING_BOOTED: 1,
  RUNNING_UNPAUSED: 5,
  PAUSED_USER: 1,
  PAUSED_STARTING_UP: 11,
  SHUTOFF_UNKNOWN: 0,
  SHUTOFF_SHUTDOWN: 1,
  SHUTOFF_DESTROYED: 2,
  SHUTOFF_CRASHED: 3,
  SHUTOFF_FAILED: 6,
} as const;

/** virDomainEventType (lifecycle event kinds). */
export const LifecycleEvent = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const;

/** Lifecycle event details virtkit emits. */
export const LifecycleDetail = {
  DEFINED_ADDED: 0,
  DEFINED_UPDATED: 1,
  UNDEFINED_REMOVED: 0,
  STARTED_BOOTED: 0,
  SUSPENDED_PAUSED: 0,
  RESUMED_UNPAUSED: 0,
  STOPPED_SHUTDOWN: 0,
  STOPPED_DESTROYED: 1,
  STOPPED_CRASHED: 2,
  STOPPED_FAILED: 5,
  SHUTDOWN_FINISHED: 0,
} as const;

/** virDomainMemoryModFlags (virDomainSetMemoryFlags): the impact bits plus MAXIMUM. */
export const DomainMemory = { CURRENT: 0, LIVE: 1, CONFIG: 2, MAXIMUM: 4 } as const;

/** virDomainVcpuFlags (virDomainSetVcpusFlags). */
export const DomainVcpus = { CURRENT: 0, LIVE: 1, CONFIG: 2, MAXIMUM: 4, GUEST: 8, HOTPLUGGABLE: 16 } as const;

/** virDomainRebootFlagValues. */
export const DomainReboot = { DEFAULT: 0, ACPI_POWER_BTN: 1, GUEST_AGENT: 2, INITCTL: 4, SIGNAL: 8, PARAVIRT: 16 } as const;

/** virDomainInterfaceAddressesSource. */
export const InterfaceAddressesSource = { LEASE: 0, AGENT: 1, ARP: 2 } as const;

/** virIPAddrType. */
export const IPAddrType = { IPV4: 0, IPV6: 1 } as const;

/** virConnectListAllNetworksFlags. */
export const ListNetworks = { INACTIVE: 1, ACTIVE: 2, PERSISTENT: 4, TRANSIENT: 8, AUTOSTART: 16, NO_AUTOSTART: 32 } as const;

/** virConnectListAllStoragePoolsFlags (the state and persistence bits; pool-type bits from 64 up). */
export const ListStoragePools = { INACTIVE: 1, ACTIVE: 2, PERSISTENT: 4, TRANSIENT: 8, AUTOSTART: 16, NO_AUTOSTART: 32 } as const;

/** Pool types in the order of virConnectListAllStoragePoolsFlags' type bits (64 << index). */
export const STORAGE_POOL_TYPES = ['dir', 'fs', 'netfs', 'logical', 'disk', 'iscsi', 'scsi', 'mpath', 'rbd', 'sheepdog', 'gluster', 'zfs', 'vstorage', 'iscsi-direct'] as const;

/** virStoragePoolState. */
export const StoragePoolState = { INACTIVE: 0, BUILDING: 1, RUNNING: 2, DEGRADED: 3, INACCESSIBLE: 4 } as const;

/** virStorageVolType. */
export const StorageVolType = { FILE: 0, BLOCK: 1, DIR: 2, NETWORK: 3, NETDIR: 4, PLOOP: 5 } as const;

/** virDomainEventID values of the events virtkit delivers. */
export const EventId = { LIFECYCLE: 0, DEVICE_REMOVED: 15, DEVICE_ADDED: 19, DEVICE_REMOVAL_FAILED: 22 } as const;

/** State names as virsh prints them. */
export const stateNames: Record<number, string> = {
  0: 'no state',
  1: 'running',
  2: 'idle',
  3: 'paused',
  4: 'in shutdown',
  5: 'shut off',
  6: 'crashed',
  7: 'pmsuspended',
};
