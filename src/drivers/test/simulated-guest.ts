/**
 * The test driver's hypervisor step: a simulated guest instead of QEMU. It starts, pauses and
 * stops at once, plugs whatever the engine planned, and answers unplug requests the way the
 * domain's `<vkt:unplug>` metadata says (unplug-behaviour.ts), following the guest's state as
 * QEMU 7.2 guests do:
 *
 * - a paused guest answers nothing until it is resumed, then after its usual delay;
 * - a domain started paused has not booted its OS: it answers nothing until it runs and boots,
 *   then after its usual delay (virtkit's promise: a request is never lost);
 * - a second request for a device whose unplug is pending is sent again when the guest OS has
 *   booted (its answer keeps its time); a guest that never booted refuses it, as QEMU does
 *   ("already in the process of unplug", VIR_ERR_INTERNAL_ERROR).
 *
 * - a device hot-plugged in this run refuses its first `busy='N'` requests as QEMU >= 6.2 does
 *   right after a plug ("guest is busy"); `isolate` only records that the device was cut off.
 *
 * When each pending unplug is answered is kept in the runtime data persisted with the domain's
 * status, so any process that later locks the domain applies an answer that came due; the
 * process that sent the request (or resumed the guest) also arms a timer that wakes the engine.
 */
import { readAlias } from '../../conf/index.js';
import { ErrorCode, type VirtError, virtError } from '../../errors.js';
import { DomainState } from '../../shared/flags.js';
import type {
  BackendEvents,
  DeviceUpdate,
  GuestAnswer,
  HypervisorBackend,
  LiveDomain,
  Reconciled,
  Runtime,
  UnplugRequest,
  UnplugSent,
} from '../../hypervisor/backend.js';
import type { XmlElement } from '../../xml/index.js';
import { unplugBehaviour } from './unplug-behaviour.js';

/** One unplug the simulated guest has been asked for. */
interface GuestUnplug {
  answer: 'remove' | 'reject' | 'never';
  delayMs: number;
  /** Epoch ms of the answer; null while the guest is not running its OS (or never answers). */
  due: number | null;
}

interface GuestRuntime {
  /** Whether the guest OS has booted (false while a domain started paused has not run yet). */
  booted: boolean;
  unplugs: Record<string, GuestUnplug>;
  /** Busy refusals still to give, per device hot-plugged in this run. */
  busy: Record<string, number>;
  /** Devices cut off from the host (isolate). */
  isolated: string[];
}

function guestOf(dom: LiveDomain): GuestRuntime {
  const rt = dom.runtime as Partial<GuestRuntime>;
  return { booted: rt.booted ?? true, unplugs: rt.unplugs ?? {}, busy: rt.busy ?? {}, isolated: rt.isolated ?? [] };
}

function asRuntime(g: GuestRuntime): Runtime {
  const rt: Record<string, unknown> = { booted: g.booted, unplugs: g.unplugs };
  if (Object.keys(g.busy).length > 0) rt.busy = g.busy;
  if (g.isolated.length > 0) rt.isolated = g.isolated;
  return rt;
}

/** QEMU 7.2's answer to device_del while a PCIe slot's power indicator blinks, as libvirt reports it. */
function busyError(): VirtError {
  return virtError(ErrorCode.INTERNAL_ERROR, `unable to execute QEMU command 'device_del': Hot-unplug failed: guest is busy (power indicator blinking)`);
}

/** libvirt's test driver reports hypervisor version 2.0.0. */
const TEST_VERSION = 2_000_000;

export class SimulatedGuest implements HypervisorBackend {
  readonly type = 'Test';
  #events: BackendEvents | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** `uuid/alias` of devices that left although their request failed (ack='vanish'), until reconciled. */
  readonly #vanished = new Set<string>();
  #closed = false;

  async version(): Promise<number> {
    return TEST_VERSION;
  }

  bind(events: BackendEvents): void {
    this.#events = events;
  }

  async start(_dom: LiveDomain, opts: { paused: boolean }): Promise<Runtime> {
    return asRuntime({ booted: !opts.paused, unplugs: {}, busy: {}, isolated: [] });
  }

  async stop(): Promise<'stopped'> {
    return 'stopped';
  }

  async suspend(dom: LiveDomain): Promise<Runtime> {
    const g = guestOf(dom);
    // A paused guest runs no code: what it was about to answer waits for the resume.
    const unplugs = Object.fromEntries(Object.entries(g.unplugs).map(([a, u]) => [a, { ...u, due: null }]));
    return asRuntime({ ...g, unplugs });
  }

  async resume(dom: LiveDomain): Promise<Runtime> {
    const g = guestOf(dom);
    const now = Date.now();
    const unplugs = Object.fromEntries(
      Object.entries(g.unplugs).map(([a, u]) => [a, u.answer === 'never' || u.due !== null ? u : { ...u, due: now + u.delayMs }]),
    );
    for (const u of Object.values(unplugs)) this.#arm(dom, u.due);
    // Running the guest boots its OS, if it had not yet.
    return asRuntime({ ...g, booted: true, unplugs });
  }

  async attach(dom: LiveDomain, device: XmlElement): Promise<Runtime | undefined> {
    const busy = unplugBehaviour(dom.def).busy;
    const alias = readAlias(device);
    const g = guestOf(dom);
    if (alias === undefined || (busy === 0 && g.busy[alias] === undefined)) return undefined;
    const left = { ...g.busy };
    if (busy > 0) left[alias] = busy;
    else delete left[alias];
    return asRuntime({ ...g, busy: left });
  }

  async detachNow(): Promise<void> {}

  async requestUnplug(dom: LiveDomain, request: UnplugRequest): Promise<UnplugSent> {
    const behaviour = unplugBehaviour(dom.def);
    const g = guestOf(dom);
    const busyLeft = g.busy[request.alias] ?? 0;
    if (busyLeft > 0) {
      const busy = { ...g.busy };
      if (busyLeft > 1) busy[request.alias] = busyLeft - 1;
      else delete busy[request.alias];
      return { status: 'busy', error: busyError(), runtime: asRuntime({ ...g, busy }) };
    }
    if (behaviour.ack === 'vanish' && !request.alreadyPending) {
      // The device leaves, but the reply is lost: the caller only sees the monitor going away.
      this.#vanished.add(`${dom.uuid}/${request.alias}`);
      throw virtError(ErrorCode.OPERATION_FAILED, 'End of file from qemu monitor (simulated: the reply to device_del was lost)');
    }
    const previous = g.unplugs[request.alias];
    if (request.alreadyPending && previous) {
      if (!g.booted) {
        throw virtError(
          ErrorCode.INTERNAL_ERROR,
          `unable to execute QEMU command 'device_del': Device ${request.alias} is already in the process of unplug`,
        );
      }
      // Sent again: the guest is already working on it, its answer keeps its time.
      this.#arm(dom, previous.due);
      return { status: 'sent' };
    }
    const running = dom.state === DomainState.RUNNING && g.booted;
    if (behaviour.ack === 'immediate' && running) return { status: 'removed' };
    const answer = behaviour.ack === 'reject' ? 'reject' : behaviour.ack === 'never' ? 'never' : 'remove';
    const delayMs = behaviour.ack === 'immediate' || behaviour.ack === 'vanish' ? 0 : behaviour.delayMs;
    const due = running && answer !== 'never' ? Date.now() + delayMs : null;
    this.#arm(dom, due);
    return { status: 'sent', runtime: asRuntime({ ...g, unplugs: { ...g.unplugs, [request.alias]: { answer, delayMs, due } } }) };
  }

  async finishRemoval(_dom: LiveDomain, _device: XmlElement): Promise<void> {}

  async update(_dom: LiveDomain, _change: DeviceUpdate): Promise<void> {}

  async isolate(dom: LiveDomain, device: XmlElement): Promise<Runtime> {
    const g = guestOf(dom);
    const alias = readAlias(device)!;
    return asRuntime({ ...g, isolated: [...g.isolated.filter((a) => a !== alias), alias] });
  }

  needsReconcile(dom: LiveDomain, now: number): boolean {
    if (this.#vanishedOf(dom).length > 0) return true;
    if (dom.pending.length === 0) return false;
    const { unplugs } = guestOf(dom);
    for (const alias of dom.pending) {
      const u = unplugs[alias];
      if (u && u.due !== null && u.due <= now) return true;
    }
    return false;
  }

  async reconcile(dom: LiveDomain, now: number): Promise<Reconciled> {
    const g = guestOf(dom);
    const answers: GuestAnswer[] = [];
    for (const alias of this.#vanishedOf(dom)) {
      this.#vanished.delete(`${dom.uuid}/${alias}`);
      answers.push({ alias, outcome: 'removed' });
    }
    const unplugs: Record<string, GuestUnplug> = {};
    for (const [alias, u] of Object.entries(g.unplugs)) {
      if (!dom.pending.includes(alias)) continue;
      if (u.due !== null && u.due <= now) answers.push({ alias, outcome: u.answer === 'reject' ? 'rejected' : 'removed' });
      else unplugs[alias] = u;
    }
    const present = new Set(dom.def.deviceElements().map((d) => readAlias(d)));
    const gone = answers.filter((a) => a.outcome === 'removed').map((a) => a.alias);
    const isolated = g.isolated.filter((a) => present.has(a) && !gone.includes(a));
    return { answers, runtime: asRuntime({ ...g, unplugs, isolated }) };
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  #vanishedOf(dom: LiveDomain): string[] {
    if (this.#vanished.size === 0) return [];
    const prefix = `${dom.uuid}/`;
    return [...this.#vanished].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /** Wakes the engine when the guest's answer comes due (in this process; others apply it when they next look). */
  #arm(dom: LiveDomain, due: number | null): void {
    if (due === null || this.#closed) return;
    const { name, uuid } = dom;
    const t = setTimeout(
      () => {
        this.#timers.delete(t);
        // Node's timers may fire a millisecond before Date.now() reaches `due`: the answer would not be due yet.
        if (Date.now() < due) this.#arm(dom, due);
        else this.#events?.changed(name, uuid);
      },
      Math.max(0, due - Date.now()),
    );
    this.#timers.add(t);
  }
}
