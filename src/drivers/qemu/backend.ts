/**
 * The QEMU driver's hypervisor step: real QEMU processes that outlive virtkit, driven over QMP.
 * Every method runs under the engine's domain lock (this process and every other), so a domain's
 * monitor has one user at a time. What a running domain needs to be found again by any later
 * process (pid and its start time, monitor socket, log offset, unplugs waiting for the guest) is
 * the runtime data the engine persists with the live XML.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { DomainDef } from '../../conf/domain.js';
import { ErrorCode, virtError } from '../../errors.js';
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
import type { QemuProbe } from './caps/probe.js';
import { buildQemuCommand } from './command/build.js';
import { netdevExists, removeTap, setUpTap, tapsTagged } from './host/tap.js';
import { isGuestBusy } from './hotplug/busy.js';
import { acpiPciHotplugReady, type GpePortCache, gpeCacheFor } from './hotplug/guest-ready.js';
import { plugDevice, releaseBackends, requestDeviceDel, tapTagFor } from './hotplug/plug.js';
import { changeMedium, setLinkState } from './hotplug/update.js';
import { isolateDevice } from './hotplug/isolate.js';
import { MonitorSession } from './monitor.js';
import type { QmpClient } from './qmp/client.js';
import { domainLogFile, domainRunDir, MAX_SOCKET_PATH, type QemuPaths } from './paths.js';
import { exitReasonOf, type ExitReason, loggedShutdownCause } from './process/exit-reason.js';
import { isRunning, processIdentity, signalProcess, waitGone } from './process/identity.js';
import { launchQemu, logSize } from './process/launch.js';
import { cleanOrphans, pluggedAliases } from './reconcile.js';
import { readAlias } from '../../conf/devices/common.js';
import { join } from 'node:path';

/** What the engine persists for a running QEMU domain. */
export interface QemuRuntime {
  pid: number;
  /** Process start time (clock ticks since boot): tells our QEMU from a process that reused its pid. */
  startTime: number;
  monitor: string;
  runDir: string;
  log: string;
  /** Size of the log when this QEMU started: its own messages come after. */
  logStart: number;
  /** Unplugs not sent yet because the guest's ACPI did not handle PCI hot-plug yet (sent by reconcile). */
  deferred?: string[];
}

export interface QemuBackendOptions {
  paths: QemuPaths;
  /** The probed default binary (version, KVM verdict). */
  caps: QemuProbe | undefined;
  /** The engine's unplug wait: how long to keep the monitor for an answer. */
  unplugTimeoutMs: number;
}

interface Session {
  name: string;
  monitor: MonitorSession;
  /** Whether this process has reconciled the domain once (the full check after a restart). */
  checked: boolean;
  /** A killed attach or an unplug undone may have left something: scan for orphans next time. */
  orphanScan: boolean;
  /** Epoch ms of the last look at QEMU. */
  lastLook: number;
  /** Attaches of this process under way. */
  plugging: number;
  /** The QEMU and its runtime folder, for the poll. */
  rt: QemuRuntime;
  /** Unplugs nobody watches (deferred, or requested by another process): look again periodically. */
  outstanding: boolean;
  /** Where this QEMU's guest shows whether it handles ACPI PCI hot-plug. */
  gpe: GpePortCache;
  /** Deferred unplugs sent once the guest looked ready: when each was sent (ms) and how often it was sent again. */
  bootSent: Map<string, { at: number; resends: number }>;
}

/** Written into the runtime folder while a hot-plug may be uncommitted: `<pid of the plugging process>`. */
const PLUG_MARKER = 'plugging';

/** How often domains with outstanding unplugs are looked at again, and dead processes noticed. */
const POLL_MS = 400;

/**
 * A deferred unplug is sent the moment the guest enables ACPI PCI hot-plug, and Linux enables it
 * before its PCI hot-plug driver knows the slots: a request in that window is lost. QEMU accepts a
 * second device_del once the guest has run since the first, so an unanswered one is sent again
 * after these delays (then doubled), a few times.
 */
const BOOT_RESEND_MS = 3000;
const BOOT_RESENDS = 3;

function runtimeOf(dom: LiveDomain): QemuRuntime {
  const rt = dom.runtime as Partial<QemuRuntime>;
  if (typeof rt.pid !== 'number' || typeof rt.monitor !== 'string') {
    throw virtError(ErrorCode.INTERNAL_ERROR, `domain '${dom.name}' has no QEMU runtime data`);
  }
  return rt as QemuRuntime;
}

/** Where this session's QEMU shows the guest's ACPI readiness, as learned from this very QEMU. */
function gpeOf(s: Session, rt: QemuRuntime): GpePortCache {
  return gpeCacheFor(s.gpe, `${rt.pid}/${rt.startTime}`);
}

/** A PCI device on an ACPI hot-plug bus: its unplug needs the guest OS. */
function needsGuestAcpi(def: DomainDef, dev: XmlElement): boolean {
  return dev.child('address')?.attr('type') === 'pci' && def.features.includes('acpi');
}

export class QemuBackend implements HypervisorBackend {
  readonly type = 'QEMU';

  hostNameTaken(name: string): boolean {
    return netdevExists(name);
  }
  readonly #options: QemuBackendOptions;
  #events: BackendEvents | undefined;
  readonly #sessions = new Map<string, Session>();
  #poll: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: QemuBackendOptions) {
    this.#options = options;
  }

  async version(): Promise<number> {
    return this.#options.caps?.versionNumber ?? 0;
  }

  bind(events: BackendEvents): void {
    this.#events = events;
  }

  #session(dom: { name: string; uuid: string }, rt: QemuRuntime): Session {
    let s = this.#sessions.get(dom.uuid);
    if (!s) {
      const { name, uuid } = dom;
      s = {
        name,
        monitor: new MonitorSession({ socket: rt.monitor, changed: () => this.#events?.changed(name, uuid) }),
        checked: false,
        orphanScan: true,
        lastLook: 0,
        plugging: 0,
        rt,
        outstanding: false,
        gpe: {},
        bootSent: new Map(),
      };
      this.#sessions.set(uuid, s);
      this.#armPoll();
    }
    return s;
  }

  #drop(uuid: string): void {
    this.#sessions.get(uuid)?.monitor.close();
    this.#sessions.delete(uuid);
  }

  // ---- lifecycle ----

  async start(dom: LiveDomain, opts: { paused: boolean }): Promise<Runtime> {
    const { paths } = this.#options;
    const def = dom.def;
    let accel: 'tcg' | 'kvm' = 'tcg';
    if (def.type === 'kvm') {
      const kvm = this.#options.caps?.kvm;
      if (!kvm?.usable) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `domain type 'kvm' cannot run here: ${kvm?.reason ?? 'KVM was not probed'}; use type 'qemu' (TCG)`);
      accel = 'kvm';
    } else if (def.type !== 'qemu') {
      throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `domain type '${def.type}' is not supported by the QEMU driver (use qemu or kvm)`);
    }
    const runDir = domainRunDir(paths, dom.id, dom.name);
    const monitor = join(runDir, 'monitor.sock');
    if (Buffer.byteLength(monitor) > MAX_SOCKET_PATH) {
      throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `monitor socket path '${monitor}' is longer than ${MAX_SOCKET_PATH} bytes: use a shorter root folder`);
    }
    const cmd = buildQemuCommand(def, { monitorPath: monitor, accel });
    const log = domainLogFile(paths, dom.name, dom.uuid);
    mkdirSync(paths.log, { recursive: true, mode: 0o700 });
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true, mode: 0o700 });
    const tag = tapTagFor(dom.uuid);
    const taps: typeof cmd.taps = [];
    let launched: Awaited<ReturnType<typeof launchQemu>> | undefined;
    try {
      for (const tap of cmd.taps) {
        await setUpTap({ ...tap, tag });
        taps.push(tap);
      }
      const logStart = logSize(log);
      launched = await launchQemu(cmd, { monitorPath: monitor, logPath: log });
      const qmp = launched.qmp;
      for (const alias of cmd.linkDown) await qmp.execute('set_link', { name: alias, up: false });
      if (!opts.paused) await qmp.execute('cont');
      const id = processIdentity(launched.pid);
      if (!id) throw virtError(ErrorCode.OPERATION_FAILED, `QEMU (pid ${launched.pid}) exited right after starting; see ${log}`);
      qmp.close();
      const runtime: QemuRuntime = { pid: id.pid, startTime: id.startTime, monitor, runDir, log, logStart };
      const s = this.#session(dom, runtime);
      s.checked = true;
      s.orphanScan = false;
      s.lastLook = Date.now();
      return { ...runtime };
    } catch (err) {
      if (launched) {
        launched.qmp.close();
        const id = processIdentity(launched.pid);
        if (id) {
          signalProcess(id, 'SIGKILL');
          await waitGone(id, 5000);
        }
      }
      for (const tap of taps.reverse()) await removeTap(tap).catch(() => {});
      rmSync(runDir, { recursive: true, force: true });
      throw err;
    }
  }

  async stop(dom: LiveDomain, how: 'destroy' | 'shutdown'): Promise<'stopped' | 'requested'> {
    const rt = runtimeOf(dom);
    const s = this.#session(dom, rt);
    const id = { pid: rt.pid, startTime: rt.startTime };
    if (how === 'shutdown') {
      if (!isRunning(id)) return 'requested'; // already gone: reconcile reports how
      await s.monitor.use((qmp) => qmp.execute('system_powerdown'));
      return 'requested';
    }
    s.monitor.expectingExit = true;
    if (isRunning(id)) {
      // `quit` is the quickest clean exit; a monitor held by a wedged process falls back to signals.
      try {
        await s.monitor.use((qmp) => qmp.execute('quit', undefined, { timeoutMs: 2000 }));
      } catch {
        signalProcess(id, 'SIGTERM');
      }
      if (!(await waitGone(id, 3000))) {
        signalProcess(id, 'SIGKILL');
        if (!(await waitGone(id, 5000))) throw virtError(ErrorCode.OPERATION_FAILED, `QEMU (pid ${rt.pid}) of domain '${dom.name}' did not exit`);
      }
    }
    await this.#cleanUp(dom, rt);
    return 'stopped';
  }

  /** What a stopped domain leaves on the host: its taps and its runtime folder. */
  async #cleanUp(dom: LiveDomain, rt: QemuRuntime): Promise<void> {
    this.#drop(dom.uuid);
    for (const iface of dom.def.elementsNamed('interface')) {
      const type = iface.attr('type');
      const name = iface.child('target')?.attr('dev');
      if ((type === 'ethernet' || type === 'bridge') && name !== undefined) {
        await removeTap({ name, managed: iface.child('target')?.attr('managed') !== 'no' }).catch(() => {});
      }
    }
    for (const tap of tapsTagged(tapTagFor(dom.uuid))) await removeTap({ name: tap, managed: true }).catch(() => {});
    rmSync(rt.runDir, { recursive: true, force: true });
  }

  async suspend(dom: LiveDomain): Promise<undefined> {
    const rt = runtimeOf(dom);
    await this.#session(dom, rt).monitor.use((qmp) => qmp.execute('stop'));
    return undefined;
  }

  async resume(dom: LiveDomain): Promise<undefined> {
    const rt = runtimeOf(dom);
    await this.#session(dom, rt).monitor.use((qmp) => qmp.execute('cont'));
    return undefined;
  }

  /**
   * virDomainReboot as a reset (QMP system_reset): the guest boots again in the same QEMU, every
   * device (hot-plugged ones included) where it was. libvirt's graceful modes (ACPI power button
   * with a fake reboot, guest agent) are not implemented: a mode flag is refused.
   */
  async reboot(dom: LiveDomain, flags: number): Promise<undefined> {
    if (flags !== 0) {
      throw virtError(ErrorCode.ARGUMENT_UNSUPPORTED, `reboot modes (flags 0x${flags.toString(16)}) are not supported by virtkit's QEMU driver: it reboots by resetting the guest`);
    }
    const rt = runtimeOf(dom);
    await this.#session(dom, rt).monitor.use((qmp) => qmp.execute('system_reset'));
    return undefined;
  }

  // ---- hot-plug ----

  /** Connects to the monitor while the engine plans the call (a dead QEMU is left to reconcile). */
  warm(dom: LiveDomain): void {
    const rt = dom.runtime as Partial<QemuRuntime>;
    if (typeof rt.pid !== 'number' || typeof rt.monitor !== 'string') return;
    // Connected already: nothing to prepare (and reconcile, right after, looks at the process anyway).
    if (this.#sessions.get(dom.uuid)?.monitor.connected) return;
    if (!isRunning({ pid: rt.pid, startTime: rt.startTime ?? -1 })) return;
    this.#session(dom, rt as QemuRuntime).monitor.warm();
  }

  async attach(dom: LiveDomain, device: XmlElement): Promise<undefined> {
    const rt = runtimeOf(dom);
    const s = this.#session(dom, rt);
    // If this process dies before the engine commits, the marker tells the next one to look for orphans.
    writeFileSync(join(rt.runDir, PLUG_MARKER), String(process.pid), { mode: 0o600 });
    s.plugging++;
    try {
      await s.monitor.use((qmp) => plugDevice(qmp, dom.def, device, { tapTag: tapTagFor(dom.uuid) }));
    } finally {
      s.plugging--;
    }
    return undefined;
  }

  /** Whether a hot-plug marker says another process died mid-attach (its orphans need a scan); clears ours. */
  #interruptedPlug(rt: QemuRuntime, s: Session | undefined): boolean {
    const marker = join(rt.runDir, PLUG_MARKER);
    // Nearly always absent: asked first, as a failed read costs an exception (every call on a running domain asks).
    if (!existsSync(marker)) return false;
    let pid: number;
    try {
      pid = Number(readFileSync(marker, 'utf8'));
    } catch {
      return false;
    }
    if (pid === process.pid) {
      if (s && s.plugging > 0) return false;
      rmSync(marker, { force: true });
      return false;
    }
    return processIdentity(pid) === undefined;
  }

  async detachNow(dom: LiveDomain, device: XmlElement): Promise<void> {
    const rt = runtimeOf(dom);
    const s = this.#session(dom, rt);
    const alias = readAlias(device);
    if (alias === undefined) return;
    s.orphanScan = true;
    await s.monitor.use(async (qmp) => {
      const gone = qmp.waitForEvent((e) => e.event === 'DEVICE_DELETED' && e.data?.device === alias, { timeoutMs: 1000 });
      if ((await requestDeviceDel(qmp, alias)) === 'gone' || (await gone)) await releaseBackends(qmp, device);
    });
  }

  async requestUnplug(dom: LiveDomain, request: UnplugRequest): Promise<UnplugSent> {
    const rt = runtimeOf(dom);
    const s = this.#session(dom, rt);
    const deferred = rt.deferred ?? [];
    if (deferred.includes(request.alias)) return { status: 'sent' };
    return s.monitor.use(async (qmp) => {
      // An ACPI request before the guest OS handles PCI hot-plug would be lost for good (QEMU 7.2):
      // keep it until the guest is ready, then reconcile sends it.
      if (needsGuestAcpi(dom.def, request.device) && (await acpiPciHotplugReady(qmp, gpeOf(s, rt))) === false) {
        s.outstanding = true;
        return { status: 'sent', runtime: { ...rt, deferred: [...deferred, request.alias] } };
      }
      let sent: 'sent' | 'gone';
      try {
        sent = await requestDeviceDel(qmp, request.alias);
      } catch (err) {
        // Refused because the guest is busy with a plug: nothing is outstanding; the engine decides (retry or libvirt's error).
        if (isGuestBusy(err)) return { status: 'busy', error: err };
        throw err;
      }
      if (sent === 'gone') return { status: 'removed' };
      // The backends go the moment QEMU reports the device gone, as libvirt's event handler does:
      // their round trip then overlaps the engine's waking up and reconciling (~1 ms a detach).
      // finishRemoval joins it; the commit still comes after it.
      const { alias, device } = request;
      s.monitor.watch(alias, Date.now() + this.#options.unplugTimeoutMs + 1000, () => s.monitor.use((q) => releaseBackends(q, device)));
      return { status: 'sent' };
    });
  }

  async finishRemoval(dom: LiveDomain, device: XmlElement): Promise<void> {
    const rt = runtimeOf(dom);
    const alias = readAlias(device);
    const early = alias === undefined ? undefined : this.#sessions.get(dom.uuid)?.monitor.takeStarted(alias);
    try {
      if (early) return await early;
    } catch {
      // Failed (QEMU exiting, say): the usual release below, which tolerates what is gone already.
    }
    if (!isRunning({ pid: rt.pid, startTime: rt.startTime })) {
      await releaseBackends(undefined, device);
      return;
    }
    const s = this.#session(dom, rt);
    try {
      await s.monitor.use((qmp) => releaseBackends(qmp, device));
    } catch (err) {
      // The device is gone from the guest; what still backs it is found and released by the orphan scan.
      s.orphanScan = true;
      throw err;
    }
  }

  async update(dom: LiveDomain, change: DeviceUpdate): Promise<void> {
    const rt = runtimeOf(dom);
    const { before, after } = change;
    await this.#session(dom, rt).monitor.use(async (qmp) => {
      if (before.name === 'disk') {
        await changeMedium(qmp, before, after);
        return;
      }
      if (before.name === 'interface') {
        const alias = change.alias ?? readAlias(before);
        const link = (e: XmlElement) => e.child('link')?.attr('state') ?? 'up';
        if (alias !== undefined && link(before) !== link(after)) await setLinkState(qmp, alias, link(after) === 'up');
        return;
      }
      throw virtError(ErrorCode.OPERATION_UNSUPPORTED, `live update of device '${before.name}' is not supported by the QEMU driver`);
    });
  }

  /** The contract's isolate (src/drivers/qemu/hotplug/isolate.ts): the device stays in the guest, cut off from the host. */
  async isolate(dom: LiveDomain, device: XmlElement): Promise<undefined> {
    const rt = runtimeOf(dom);
    await this.#session(dom, rt).monitor.use((qmp) => isolateDevice(qmp, device));
    return undefined;
  }

  // ---- reconcile ----

  needsReconcile(dom: LiveDomain, now: number): boolean {
    const rt = dom.runtime as Partial<QemuRuntime>;
    if (typeof rt.pid !== 'number') return false;
    const s = this.#sessions.get(dom.uuid);
    if (!s?.checked || s.orphanScan) return true;
    if (typeof rt.runDir === 'string' && this.#interruptedPlug(rt as QemuRuntime, s)) {
      s.orphanScan = true;
      return true;
    }
    if (s.monitor.answers.size > 0 || s.monitor.lostConnection || s.monitor.shutdownCause !== undefined) return true;
    // An open monitor connection is a live QEMU (its end sets lostConnection); without one, the process is looked at.
    if (!s.monitor.connected && !isRunning({ pid: rt.pid, startTime: rt.startTime ?? -1 })) return true;
    const unwatched = dom.pending.some((a) => !s.monitor.isWatching(a));
    s.outstanding = unwatched || (rt.deferred?.length ?? 0) > 0 || s.bootSent.size > 0;
    return s.outstanding && now - s.lastLook >= POLL_MS;
  }

  async reconcile(dom: LiveDomain, now: number): Promise<Reconciled> {
    const rt = runtimeOf(dom);
    const s = this.#session(dom, rt);
    s.lastLook = now;
    if (!isRunning({ pid: rt.pid, startTime: rt.startTime })) return this.#exited(dom, rt, s);
    const answers: GuestAnswer[] = [];
    let deferred = rt.deferred ?? [];
    if (this.#heardEverything(dom, rt, s)) {
      // DEVICE_DELETED heard on a connection open since the request: the answers need no second look.
      const buffered = s.monitor.takeAnswers();
      for (const alias of pluggedAliases(dom.def)) if (buffered.get(alias) === 'removed') answers.push({ alias, outcome: 'removed' });
      for (const { alias } of answers) s.bootSent.delete(alias);
      s.outstanding = s.bootSent.size > 0 || dom.pending.some((a) => !s.monitor.isWatching(a) && !answers.some((x) => x.alias === a));
      return { answers };
    }
    try {
      await s.monitor.use(async (qmp) => {
        const buffered = s.monitor.takeAnswers();
        const present = new Set((await qmp.execute('qom-list', { path: '/machine/peripheral' })).map((p) => p.name));
        // Devices QEMU no longer has are gone, whoever asked (or whichever process heard the answer).
        for (const alias of pluggedAliases(dom.def)) {
          const heard = buffered.get(alias);
          if (heard === 'rejected' && present.has(alias)) answers.push({ alias, outcome: 'rejected' });
          else if (!present.has(alias)) answers.push({ alias, outcome: 'removed' });
        }
        deferred = deferred.filter((a) => present.has(a));
        if (deferred.length > 0 && (await acpiPciHotplugReady(qmp, gpeOf(s, rt))) !== false) {
          const busy: string[] = [];
          for (const alias of deferred) {
            let sent: 'sent' | 'gone';
            try {
              sent = await requestDeviceDel(qmp, alias);
            } catch (err) {
              // Busy right after a plug: kept deferred, sent on a later look.
              if (!isGuestBusy(err)) throw err;
              busy.push(alias);
              continue;
            }
            if (sent === 'gone') answers.push({ alias, outcome: 'removed' });
            else {
              s.monitor.watch(alias, Date.now() + this.#options.unplugTimeoutMs + 1000);
              s.bootSent.set(alias, { at: Date.now(), resends: 0 });
            }
          }
          deferred = busy;
        }
        await this.#resendLostAtBoot(qmp, s, present, answers);
        if (s.orphanScan || this.#interruptedPlug(rt, s)) {
          const ready = async () => (await acpiPciHotplugReady(qmp, gpeOf(s, rt))) !== false;
          const report = await cleanOrphans(qmp, dom.def, tapTagFor(dom.uuid), ready);
          s.orphanScan = report.devices.length > 0 || report.retry === true;
          if (!s.orphanScan) rmSync(join(rt.runDir, PLUG_MARKER), { force: true });
        }
      });
    } catch (err) {
      // QEMU died while we looked: report the exit instead.
      if (!isRunning({ pid: rt.pid, startTime: rt.startTime })) return this.#exited(dom, rt, s);
      throw err;
    }
    s.checked = true;
    s.monitor.lostConnection = false;
    s.outstanding =
      deferred.length > 0 || s.bootSent.size > 0 || dom.pending.some((a) => !s.monitor.isWatching(a) && !answers.some((x) => x.alias === a));
    const changed = deferred.length !== (rt.deferred?.length ?? 0);
    return { answers, runtime: changed ? { ...rt, deferred } : undefined };
  }

  /**
   * Whether this look needs nothing but the unplug answers already heard: the domain was checked,
   * nothing may be orphaned, the monitor stayed connected, every answer is a removal, and every
   * pending unplug is answered or still watched. Anything else takes the full look (qom-list).
   */
  #heardEverything(dom: LiveDomain, rt: QemuRuntime, s: Session): boolean {
    const answers = s.monitor.answers;
    if (!s.checked || s.orphanScan || s.monitor.lostConnection || !s.monitor.connected || answers.size === 0) return false;
    if ((rt.deferred?.length ?? 0) > 0 || s.monitor.shutdownCause !== undefined) return false;
    if ([...answers.values()].some((a) => a !== 'removed')) return false;
    if (!dom.pending.every((a) => answers.has(a) || s.monitor.isWatching(a))) return false;
    return !this.#interruptedPlug(rt, s);
  }

  /** Sends again the unplugs sent at boot that the guest has not answered (see BOOT_RESEND_MS); forgets answered ones. */
  async #resendLostAtBoot(qmp: QmpClient, s: Session, present: Set<string>, answers: GuestAnswer[]): Promise<void> {
    const now = Date.now();
    const due: string[] = [];
    for (const [alias, sent] of s.bootSent) {
      if (!present.has(alias) || answers.some((a) => a.alias === alias) || sent.resends >= BOOT_RESENDS) s.bootSent.delete(alias);
      else if (now - sent.at >= BOOT_RESEND_MS * 2 ** sent.resends) due.push(alias);
    }
    // Only a running guest can take it (QEMU refuses a second request until the guest has run since the first).
    if (due.length === 0 || (await qmp.execute('query-status')).status !== 'running') return;
    for (const alias of due) {
      const sent = s.bootSent.get(alias)!;
      let result: 'sent' | 'gone';
      try {
        result = await requestDeviceDel(qmp, alias);
      } catch (err) {
        if (!isGuestBusy(err)) throw err;
        continue; // busy with a plug: the next look tries again
      }
      if (result === 'gone') answers.push({ alias, outcome: 'removed' });
      s.bootSent.set(alias, { at: now, resends: sent.resends + 1 });
      s.monitor.watch(alias, now + this.#options.unplugTimeoutMs + 1000);
    }
  }

  async #exited(dom: LiveDomain, rt: QemuRuntime, s: Session): Promise<Reconciled> {
    const cause = s.monitor.shutdownCause ?? loggedShutdownCause(rt.log, rt.logStart);
    const exit: ExitReason = exitReasonOf(cause);
    await this.#cleanUp(dom, rt);
    return { answers: [], exited: { reason: exit.reason, detail: exit.detail } };
  }

  /** Wakes the engine for domains with outstanding work, and for QEMUs that died. */
  #armPoll(): void {
    if (this.#poll || this.#closed) return;
    this.#poll = setInterval(() => {
      if (this.#sessions.size === 0) {
        clearInterval(this.#poll);
        this.#poll = undefined;
        return;
      }
      const now = Date.now();
      for (const [uuid, s] of this.#sessions) {
        const due = s.outstanding && now - s.lastLook >= POLL_MS;
        if (due || !isRunning({ pid: s.rt.pid, startTime: s.rt.startTime }) || this.#interruptedPlug(s.rt, s)) this.#events?.changed(s.name, uuid);
      }
    }, POLL_MS);
    this.#poll.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    this.#poll = undefined;
    for (const uuid of [...this.#sessions.keys()]) this.#drop(uuid);
  }
}
