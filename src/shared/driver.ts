/**
 * The one interface every backend implements (test, qemu, remote). Each method
 * names the libvirt API it stands for; `Connection`/`Domain` in src/api are thin
 * wrappers over it. A driver throws VIR_ERR_NO_SUPPORT for what it does not do.
 */
import type { EventListener } from './event-hub.js';
import type { DomainRef } from './events.js';
import type { ApplyOptions, ApplyResult, DevicePlan } from './declarative.js';
import type { DefineOptions, DetachOptions, DetachOutcome, PendingDevice } from './hotplug-contract.js';
import type { BlockInfo, ConsoleStream, DomainInterface, NetworkInfo, NodeInfo, StoragePoolInfo, StorageVolInfo } from './host-types.js';

export type { EventListener };
export type { BlockInfo, ConsoleStream, DomainInterface, InterfaceAddress, NetworkInfo, NodeInfo, StoragePoolInfo, StorageVolInfo } from './host-types.js';

export interface DomainInfo {
  /** DomainState value. */
  state: number;
  /** Maximum memory in KiB. */
  maxMem: number;
  /** Current memory in KiB. */
  memory: number;
  nrVirtCpu: number;
  /** CPU time used, in nanoseconds. */
  cpuTime: number;
}

export interface DomainStateInfo {
  state: number;
  reason: number;
}

/** Outcome of a live attach: the alias the device got (empty for config-only attach). */
export interface AttachResult {
  alias?: string;
}

/**
 * Outcome of a detach. libvirt returns 0 for both; virtkit tells them apart:
 * - `removed`: the device is gone from every definition the call touched;
 * - `pending`: the unplug request was sent, the guest has not acknowledged it yet;
 *   the device stays in the live XML until a `device-removed` event.
 */
export interface DetachResult {
  outcome: 'removed' | 'pending';
  /** Alias of the live device the request went to, when there was one. */
  alias?: string;
}

/** Ends a subscription; may be asynchronous (a remote driver tells the server). */
export type Unsubscribe = () => void | Promise<void>;

export interface Driver {
  /** virConnectGetURI */
  readonly uri: string;
  /** virConnectGetType, e.g. "Test" or "QEMU". */
  readonly type: string;

  /** virConnectClose */
  close(): Promise<void>;
  /** virConnectGetHostname */
  getHostname(): Promise<string>;
  /** virConnectGetVersion: hypervisor version as major*1e6+minor*1e3+micro. */
  getVersion(): Promise<number>;

  /** virConnectListAllDomains */
  listAllDomains(flags: number): Promise<DomainRef[]>;
  /** virDomainLookupByName */
  lookupByName(name: string): Promise<DomainRef>;
  /** virDomainLookupByUUIDString */
  lookupByUUID(uuid: string): Promise<DomainRef>;
  /** virDomainLookupByID */
  lookupByID(id: number): Promise<DomainRef>;

  /** virDomainDefineXMLFlags */
  defineXML(xml: string, flags: number, options?: DefineOptions): Promise<DomainRef>;
  /** virDomainCreateXML (transient domain) */
  createXML(xml: string, flags: number): Promise<DomainRef>;
  /** virDomainUndefineFlags */
  undefine(dom: DomainRef, flags: number): Promise<void>;
  /** virDomainCreateWithFlags */
  create(dom: DomainRef, flags: number): Promise<DomainRef>;
  /** virDomainDestroyFlags */
  destroy(dom: DomainRef, flags: number): Promise<void>;
  /** virDomainShutdownFlags */
  shutdown(dom: DomainRef, flags: number): Promise<void>;
  /** virDomainSuspend */
  suspend(dom: DomainRef): Promise<void>;
  /** virDomainResume */
  resume(dom: DomainRef): Promise<void>;

  /** virDomainGetXMLDesc */
  getXMLDesc(dom: DomainRef, flags: number): Promise<string>;
  /** virDomainGetInfo */
  getInfo(dom: DomainRef): Promise<DomainInfo>;
  /** virDomainGetState */
  getState(dom: DomainRef): Promise<DomainStateInfo>;
  /** virDomainIsActive */
  isActive(dom: DomainRef): Promise<boolean>;
  /** virDomainIsPersistent */
  isPersistent(dom: DomainRef): Promise<boolean>;
  /** virDomainGetOSType, e.g. "hvm". */
  getOSType(dom: DomainRef): Promise<string>;
  /** virDomainGetAutostart */
  getAutostart(dom: DomainRef): Promise<boolean>;
  /** virDomainHasManagedSaveImage */
  hasManagedSaveImage(dom: DomainRef, flags: number): Promise<boolean>;
  /** Current identity (id changes on start/stop). */
  refresh(dom: DomainRef): Promise<DomainRef>;

  /** virDomainAttachDeviceFlags (virDomainAttachDevice = flags LIVE) */
  attachDevice(dom: DomainRef, xml: string, flags: number): Promise<AttachResult>;
  /** virDomainDetachDeviceFlags (virDomainDetachDevice = flags LIVE) */
  detachDevice(dom: DomainRef, xml: string, flags: number, options?: DetachOptions): Promise<DetachResult | DetachOutcome>;
  /** virDomainUpdateDeviceFlags */
  updateDevice(dom: DomainRef, xml: string, flags: number): Promise<void>;
  /** virDomainDetachDeviceAlias */
  detachDeviceAlias(dom: DomainRef, alias: string, flags: number, options?: DetachOptions): Promise<DetachResult | DetachOutcome>;

  /**
   * The driver keeps virtkit's hot-plug contract (detach options, pending devices, persist, isolate):
   * the engine's drivers do; the remote driver cannot (libvirt's protocol has no room for it).
   */
  readonly hotplugContract?: boolean;
  /** The contract: devices whose unplug is outstanding (optional: drivers without it answer NO_SUPPORT). */
  pendingDevices?(dom: DomainRef): Promise<PendingDevice[]>;
  /** The contract: makes a live device persistent with its MAC and PCI address (optional). */
  persistDevice?(dom: DomainRef, alias: string): Promise<AttachResult>;
  /** The contract: cuts a device whose unplug is pending off from the host (optional). */
  isolateDevice?(dom: DomainRef, alias: string): Promise<DetachOutcome>;
  /** The contract: the hot-plug calls that make the domain's devices those of a desired domain XML (optional). */
  planDevices?(dom: DomainRef, xml: string): Promise<DevicePlan>;
  /** The contract: plans and runs those calls in a safe order (optional). */
  applyDevices?(dom: DomainRef, xml: string, options?: ApplyOptions): Promise<ApplyResult>;

  /**
   * Subscribes to every domain event of this connection. Resolves once events are being
   * delivered (a remote driver needs a round trip), to the function that ends it.
   * Listener errors never reach the driver (see src/shared/event-hub.ts).
   */
  subscribe(listener: EventListener): Promise<Unsubscribe>;

  // Optional APIs: a driver without one answers VIR_ERR_NO_SUPPORT through the API layer
  // ("this function is not supported by the connection driver: virDomainReboot").

  /** virDomainReboot (DomainReboot flags). */
  reboot?(dom: DomainRef, flags: number): Promise<void>;
  /** virDomainSetAutostart */
  setAutostart?(dom: DomainRef, autostart: boolean): Promise<void>;
  /** virDomainSetMemoryFlags (DomainMemory flags; MAXIMUM sets the maximum). Memory in KiB. */
  setMemoryFlags?(dom: DomainRef, kib: number, flags: number): Promise<void>;
  /** virDomainSetVcpusFlags (DomainVcpus flags). */
  setVcpusFlags?(dom: DomainRef, count: number, flags: number): Promise<void>;
  /** virDomainInterfaceAddresses (InterfaceAddressesSource). */
  interfaceAddresses?(dom: DomainRef, source: number, flags: number): Promise<DomainInterface[]>;
  /** virDomainGetBlockInfo: `disk` is a target (vda) or a source path. */
  getBlockInfo?(dom: DomainRef, disk: string, flags: number): Promise<BlockInfo>;
  /** virDomainOpenConsole: `devname` is an alias (serial0, console0) or undefined for the first console. */
  openConsole?(dom: DomainRef, devname: string | undefined, flags: number): Promise<ConsoleStream>;
  /** virNodeGetInfo */
  nodeGetInfo?(): Promise<NodeInfo>;
  /** virConnectGetCapabilities */
  getCapabilities?(): Promise<string>;
  /** virConnectGetDomainCapabilities */
  getDomainCapabilities?(emulator: string | undefined, arch: string | undefined, machine: string | undefined, virttype: string | undefined, flags: number): Promise<string>;
  /** virConnectListAllNetworks (ListNetworks flags). */
  listAllNetworks?(flags: number): Promise<NetworkInfo[]>;
  /** virConnectListAllStoragePools (ListStoragePools flags). */
  listAllStoragePools?(flags: number): Promise<StoragePoolInfo[]>;
  /** virStoragePoolListAllVolumes of the pool with this name or UUID. */
  listAllVolumes?(pool: string, flags: number): Promise<StorageVolInfo[]>;
}
