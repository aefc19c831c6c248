/**
 * The hypervisor step of the engine: what a driver's backend does on the hypervisor
 * once the engine has planned a change, before the engine commits it.
 *
 * The engine (src/hypervisor/engine.ts) owns everything driver-independent: parsing,
 * flag resolution, the new config and live definitions with every name and address
 * allocated, per-domain locking, persistence, events, the unplug wait. A backend only
 * touches the hypervisor: the test driver's simulates a guest (src/drivers/test), the
 * QEMU driver's speaks QMP. Every method runs with the domain's lock held (in this
 * process and across processes), so a backend never races with itself on one domain.
 *
 * Failure contract: a method that throws must leave the hypervisor as it found it
 * (undo its own earlier sub-steps, e.g. blockdev-del after a failed device_add);
 * the engine then commits nothing. After a method succeeded, the engine may still
 * fail to commit (disk full): it then calls the matching undo (`detachNow` for an
 * attach) and reports the error.
 */
import type { XmlElement } from '../xml/index.js';
import type { DomainDef } from '../conf/index.js';
import { isVirtError, type VirtError, virtError } from '../errors.js';
import type { BlockInfo, ConsoleStream, DomainInterface, NetworkInfo, NodeInfo, StoragePoolInfo, StorageVolInfo } from '../shared/host-types.js';

/**
 * Backend-private data persisted with a running domain's status (JSON-serialisable:
 * QEMU: pid, monitor socket, start time; test: whether the guest OS booted and when
 * it answers each unplug). The engine stores and hands it back, never reads it.
 */
export type Runtime = Readonly<Record<string, unknown>>;

/** What the engine shows a backend of one running domain. Immutable: backends return changes. */
export interface LiveDomain {
  readonly name: string;
  readonly uuid: string;
  /** Running id (`<domain id>`). */
  readonly id: number;
  /** The live definition as planned, with aliases, tap names, MACs and addresses. */
  readonly def: DomainDef;
  /** DomainState: RUNNING or PAUSED. */
  readonly state: number;
  /** Aliases whose unplug was requested and not answered yet. */
  readonly pending: readonly string[];
  readonly runtime: Runtime;
}

/** A guest's answer to an unplug request. */
export interface GuestAnswer {
  alias: string;
  /** `removed`: the device is gone from the guest (QEMU: DEVICE_DELETED); `rejected`: the guest refused. */
  outcome: 'removed' | 'rejected';
}

/** What a backend learned about a domain without being asked, applied by the engine under the domain's lock. */
export interface Reconciled {
  /** Unplug answers that arrived (or, after a restart, that reconciliation found). */
  answers: GuestAnswer[];
  /**
   * The domain is no longer running (QEMU exited or crashed while nobody watched): its
   * shut-off reason (StateReason.SHUTOFF_*) and the STOPPED event's detail (LifecycleDetail.STOPPED_*).
   */
  exited?: { reason: number; detail: number };
  /** New runtime data to persist (omit when unchanged). */
  runtime?: Runtime;
}

export interface UnplugRequest {
  alias: string;
  /** The live device element being unplugged (unchanged). */
  device: XmlElement;
  /** An unplug of this alias is already pending (the second detach of libvirt's "request sent"). */
  alreadyPending: boolean;
}

export interface UnplugSent {
  /**
   * `removed`: the hypervisor finished the unplug within the call (e.g. no guest cooperation needed).
   * `sent`: the request is out; the guest's answer comes through `reconcile`.
   * `busy`: the hypervisor refused the request because the guest is still busy with an earlier
   * plug (QEMU >= 6.2: "guest is busy (power indicator blinking)"); nothing is outstanding and the
   * request may be sent again later. `error` is what libvirt reports for it, given to libvirt's calls.
   */
  status: 'removed' | 'sent' | 'busy';
  /** For `busy`: the error libvirt's calls report (QEMU: INTERNAL_ERROR "unable to execute QEMU command 'device_del': ..."). */
  error?: Error;
  runtime?: Runtime;
}

/** A live update the engine validated (media change, link state). */
export interface DeviceUpdate {
  alias: string | undefined;
  before: XmlElement;
  after: XmlElement;
}

/** Wakes the engine when the hypervisor has news for a domain (an unplug answer, an exit). */
export interface BackendEvents {
  /** The engine reconciles the domain soon (at once when a detach waits on it). */
  changed(name: string, uuid: string): void;
}

export interface HypervisorBackend {
  /** virConnectGetType, e.g. "Test", "QEMU". */
  readonly type: string;
  /** virConnectGetVersion: hypervisor version as major*1e6+minor*1e3+micro. */
  version(): Promise<number>;
  /** Called once by the engine before any other method. */
  bind(events: BackendEvents): void;

  /** Runs a domain whose live definition the engine planned (names, ids, addresses set). Returns its runtime data. */
  start(dom: LiveDomain, opts: { paused: boolean }): Promise<Runtime>;
  /**
   * Stops a running domain: `destroy` at once, `shutdown` through the guest. `stopped` when it is
   * no longer running on return; `requested` when the guest will power off later (its exit then
   * comes through `reconcile`, announced by `BackendEvents.changed`).
   */
  stop(dom: LiveDomain, how: 'destroy' | 'shutdown'): Promise<'stopped' | 'requested'>;
  suspend(dom: LiveDomain): Promise<Runtime | undefined>;
  resume(dom: LiveDomain): Promise<Runtime | undefined>;

  /**
   * Plugs a device the engine placed in `dom.def` (QEMU: blockdev-add / tap + netdev_add,
   * then device_add; on failure removes what it added). Returns new runtime data, if any.
   */
  attach(dom: LiveDomain, device: XmlElement): Promise<Runtime | undefined>;
  /** Undoes a successful attach the engine could not commit (device_del + cleanup, without waiting for the guest). */
  detachNow(dom: LiveDomain, device: XmlElement): Promise<void>;
  /**
   * Asks for an unplug (QEMU: device_del). May refuse with a VirtError (QEMU 7.2 refuses a second
   * request for a guest that never booted: VIR_ERR_INTERNAL_ERROR "... already in the process of unplug").
   * A refusal because the guest is busy is not thrown but returned as `busy` (the contract retries it).
   * After any throw the engine calls `reconcile` once, whatever `needsReconcile` says, so a device that
   * did go away meanwhile leaves the live definition: `reconcile` must be safe to call at any time.
   */
  requestUnplug(dom: LiveDomain, request: UnplugRequest): Promise<UnplugSent>;
  /** Releases what backed a device the guest let go (QEMU: blockdev-del / netdev_del / tap removal). */
  finishRemoval(dom: LiveDomain, device: XmlElement): Promise<void>;
  /** Applies a live update the engine validated (QEMU: blockdev media change, set_link). */
  update(dom: LiveDomain, change: DeviceUpdate): Promise<void>;
  /**
   * Cuts off from the host a device whose unplug the guest has not answered, without the guest's help,
   * leaving it plugged in the guest (the contract's `isolate`): an interface's link goes down and its
   * tap leaves its bridge; a disk's backend stops giving access to its image. The guest's later answer
   * still ends in `finishRemoval`, which then must tolerate what isolation already released; a domain
   * that stops releases the rest. Optional: without it the engine answers VIR_ERR_NO_SUPPORT.
   */
  isolate?(dom: LiveDomain, device: XmlElement): Promise<Runtime | undefined>;

  /**
   * A call that will reach the hypervisor of this running domain has just taken its lock: the
   * backend may start what that call will need (QEMU: the monitor connection) while the engine plans.
   * Cheap and synchronous; never throws (the call's own step reports any failure). Optional.
   */
  warm?(dom: LiveDomain): void;
  /**
   * Cheap, synchronous: does this domain have news to reconcile (answers due or buffered,
   * never reconciled by this process)? Lock-free reads call it and reconcile first when true.
   */
  needsReconcile(dom: LiveDomain, now: number): boolean;
  /** Collects what changed on the hypervisor (answers, exit); called under the domain's lock. */
  reconcile(dom: LiveDomain, now: number): Promise<Reconciled>;

  /** Releases connections and timers (domains keep running). */
  close(): Promise<void>;

  // Optional: what a backend leaves out, the engine answers with VIR_ERR_NO_SUPPORT.

  /**
   * Whether the host has a network interface of that name already (allocated tap names step over it).
   * A name taken between planning and creating it (another state folder on the host) is a
   * {@link hostNameTakenError}: the engine plans again with fresh names.
   */
  hostNameTaken?(name: string): boolean;
  /** Resets the guest (QEMU: system_reset or an ACPI request). Returns new runtime data, if any. */
  reboot?(dom: LiveDomain, flags: number): Promise<Runtime | undefined>;
  /** Sets the running guest's current memory in KiB (QEMU: the balloon). */
  setMemory?(dom: LiveDomain, kib: number): Promise<Runtime | undefined>;
  /** Sets the running guest's vCPU count (QEMU: vCPU hot-plug). */
  setVcpus?(dom: LiveDomain, count: number): Promise<Runtime | undefined>;
  /** The guest's interface addresses from one InterfaceAddressesSource (lease, agent, arp). */
  interfaceAddresses?(dom: LiveDomain, source: number): Promise<DomainInterface[]>;
  /** Sizes of the image behind a `<disk>` (the domain may be stopped: `dom` is then undefined). */
  blockInfo?(dom: LiveDomain | undefined, disk: XmlElement): Promise<BlockInfo>;
  /**
   * A stream to a running guest's console or serial device (the element of the live definition;
   * undefined when the domain has none and none was named: QEMU answers libvirt's
   * "cannot find character device <null>").
   */
  openConsole?(dom: LiveDomain, device: XmlElement | undefined): Promise<ConsoleStream>;
  /** virNodeGetInfo of the hypervisor host. */
  nodeInfo?(): Promise<NodeInfo>;
  /** virConnectGetCapabilities document. */
  capabilities?(): Promise<string>;
  /** virConnectGetDomainCapabilities document. */
  domainCapabilities?(emulator: string | undefined, arch: string | undefined, machine: string | undefined, virttype: string | undefined): Promise<string>;
  /** The host's virtual networks. */
  networks?(): Promise<NetworkInfo[]>;
  /** The host's storage pools. */
  storagePools?(): Promise<StoragePoolInfo[]>;
  /** The volumes of one pool (by name or UUID); VIR_ERR_NO_STORAGE_POOL when there is none. */
  volumes?(pool: string): Promise<StorageVolInfo[]>;
}

/** The `reason` of a backend error saying a host-side name the plan chose was taken meanwhile. */
export const HOST_NAME_TAKEN = 'host-name-taken';

/** How often the engine plans a start or attach again after {@link HOST_NAME_TAKEN}. */
export const HOST_NAME_ATTEMPTS = 4;

/** A backend's error for a host-side name (a tap) that exists already. */
export function hostNameTakenError(code: number, detail: string): VirtError {
  return Object.assign(virtError(code, detail), { reason: HOST_NAME_TAKEN });
}

/** Whether `err` is a {@link hostNameTakenError}. */
export function isHostNameTaken(err: unknown): boolean {
  return isVirtError(err) && (err as { reason?: string }).reason === HOST_NAME_TAKEN;
}
