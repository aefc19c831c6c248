/**
 * Declarative devices (issue 11): a desired domain XML compared with the current definitions, as the
 * list of hot-plug calls that makes the devices equal (`planDevices`), then run in a safe order
 * (`applyDevices`). What no hot-plug call can change is reported as `needs restart`, never applied.
 */
import type { DetachOutcome } from './hotplug-contract.js';

export type DeviceAction = 'attach' | 'detach' | 'update';

/** One libvirt hot-plug call of a plan. */
export interface PlannedOperation {
  action: DeviceAction;
  /** Device element name: `interface`, `disk`, ... */
  device: string;
  /** How the device is named: alias, MAC, target dev, address (e.g. `net1 (pci 0000:00:03.0, MAC 52:54:00:…)`). */
  name: string;
  /** DeviceModify flags of the call: LIVE|CONFIG on a running persistent domain, CONFIG on a stopped one, LIVE on a transient one. */
  flags: number;
  /** The device XML handed to the call. */
  xml: string;
  /** Why: `new device`, `not in the desired XML`, `link state up -> down`, `media changed`, `replaced: source differs`, ... */
  reason: string;
}

/** A difference no hot-plug call can make: it takes effect only by defining the XML and restarting the domain. */
export interface RestartEntry {
  /** What differs: `memory`, `vcpu`, `machine type`, `os`, or a device (`video`, `disk hdc`). */
  what: string;
  /** Short renderings of the current and desired values, when they have one. */
  current?: string;
  desired?: string;
  reason: string;
}

export interface DevicePlan {
  /** The domain the plan is for. */
  domain: string;
  /** Whether it was running, and persistent, when planned (what the flags were chosen for). */
  active: boolean;
  persistent: boolean;
  /** In the order they run: detaches, then updates, then attaches. Empty when the devices already agree. */
  operations: PlannedOperation[];
  /** Never applied: reported so that nothing changes silently. */
  needsRestart: RestartEntry[];
}

/** Options of `applyDevices`. */
export interface ApplyOptions {
  /** How long each detach waits for the guest to let go, in ms (0 to 3,600,000; default: the connection's unplug timeout). */
  waitMs?: number;
}

export type OperationStatus = 'done' | 'removed' | 'pending' | 'failed' | 'skipped';

/** What became of one planned operation. */
export interface OperationResult {
  operation: PlannedOperation;
  /** `done` (attach, update), `removed` / `pending` (detach, the contract's outcome), `failed`, `skipped` (after a failure). */
  status: OperationStatus;
  /** The attach's new alias, or the detach's device alias. */
  alias?: string;
  /** A detach's outcome under the hot-plug contract. */
  outcome?: DetachOutcome;
  /** Why it failed: libvirt's code and message. */
  error?: { code: number; message: string };
}

export interface ApplyResult {
  plan: DevicePlan;
  /** One per planned operation, in order. */
  results: OperationResult[];
  /** Every operation done (a detach still pending counts: its request stays in effect). */
  ok: boolean;
}
