/**
 * virtkit's hot-plug contract on top of libvirt's calls (issue 11): what a caller of the typed API
 * may ask of a detach and what it is told back. libvirt's own calls (and everything served to virsh
 * and libvirt-python by virtkitd) stay libvirt's; passing an options object selects the contract.
 */

/** Why a device is still in the guest after an unplug request. */
export type PendingReason =
  /** The request reached the hypervisor; the guest OS has not let go of the device yet. */
  | 'guest-not-acknowledging'
  /** The domain is paused: its guest runs no code and cannot answer until it is resumed. */
  | 'paused'
  /** The hypervisor refused the request because the guest is still busy with an earlier plug; virtkit resends it. */
  | 'guest-busy';

/**
 * `pending`: the request is outstanding and ends with the guest's answer; `pending-until-shutdown`: the
 * device was isolated from the host (see `isolateDevice`) and leaves at the guest's answer or at the
 * latest when the domain stops.
 */
export type PendingState = 'pending' | 'pending-until-shutdown';

/** Options that select virtkit's contract for a detach (`detachDeviceFlags(xml, flags, options)`). */
export interface DetachOptions {
  /**
   * How long to wait for the guest to let go of the device, in milliseconds (0: not at all). Default:
   * the connection's unplug timeout for detachDevice/detachDeviceFlags (libvirt's 5 s), 0 for detachDeviceAlias.
   */
  waitMs?: number;
  /** Send the unplug request again although one is already pending (default: no second request). */
  resend?: boolean;
  /** A device that is not there is success (`{ status: 'removed', absent: true }`), not DEVICE_MISSING. */
  ifPresent?: boolean;
  /** When the device is still pending after the wait, isolate it from the host (see `isolateDevice`). */
  isolate?: boolean;
  /**
   * A guest busy with an earlier plug makes the hypervisor refuse the request (QEMU >= 6.2). `hold`
   * (default): virtkit keeps the request and resends it (pending, reason `guest-busy`); `fail`: the call
   * fails with the retryable VIR_ERR_RESOURCE_BUSY and nothing is left pending.
   */
  ifBusy?: 'hold' | 'fail';
}

/** What a detach under the contract resolves to. `outcome`/`alias` are the libvirt-shaped result, kept for callers of it. */
export interface DetachOutcome {
  status: 'removed' | 'pending';
  /** Same as `status` (the field libvirt-shaped callers read). */
  outcome: 'removed' | 'pending';
  /** Alias of the live device, when the call touched the running domain. */
  alias?: string;
  /** Why it is still there (pending only). */
  reason?: PendingReason;
  /** Epoch milliseconds of the first unplug request for this device (pending only). */
  since?: number;
  /** `pending-until-shutdown` once isolated (pending only). */
  state?: PendingState;
  /** Id of the request that removes (or removed) the device; device-removed / device-removal-failed carry it. */
  requestId?: string;
  /** `ifPresent` and no such device: nothing was done. */
  absent?: boolean;
}

/** One device whose unplug is outstanding (`Domain.pendingDevices()`). */
export interface PendingDevice {
  alias: string;
  reason: PendingReason;
  state: PendingState;
  /** Epoch milliseconds of the first request. */
  since: number;
  /** Milliseconds since then, when listed. */
  ageMs: number;
  requestId?: string;
}

/** The namespace of virtkit's marks in live XML (`<metadata><vkh:hotplug xmlns:vkh='…'>`): libvirt clients ignore it. */
export const HOTPLUG_NAMESPACE = 'urn:virtkit:hotplug';

/** The upper bound of `waitMs` (one hour, as the connection's unplug timeout). */
export const MAX_WAIT_MS = 3_600_000;

/** Options of the contract's define (`conn.defineXML(xml, options)`). */
export interface DefineOptions {
  /**
   * Free hot-plug slots the definition must have: on q35, empty pcie-root-ports are added until this many
   * are free (a running q35 domain can only hot-plug into root ports it was started with); on pc, the free
   * slots of pci.0 are checked. 0 to 64. Without it, define is exactly libvirt's.
   */
  hotplugSlots?: number;
}
