/** A handle on one domain, like libvirt's virDomainPtr: name and UUID fixed, everything else asked of the driver. */
import type { AttachResult, BlockInfo, ConsoleStream, DetachResult, DomainInfo, DomainInterface, DomainStateInfo, Driver } from '../drivers/driver.js';
import { ErrorCode, VirtError } from '../errors.js';
import { DeviceModify, DomainMemory, DomainVcpus } from '../shared/flags.js';
import type { DomainRef } from '../shared/events.js';
import type { ApplyOptions, ApplyResult, DevicePlan } from '../shared/declarative.js';
import type { DetachOptions, DetachOutcome, PendingDevice } from '../shared/hotplug-contract.js';
import { checkDetachOptionsArg, checkFlagsArg, checkIntArg, checkOptionsArg, checkStringArg, checkXmlArg, MAX_UINT32 } from './args.js';
import { contractCall, contractOptions } from './contract.js';
import { need } from './unsupported.js';
import { keepShape } from '../shared/keep-shape.js';

/** Longest alias accepted by detachDeviceAlias (aliases are short names like `ua-disk1`). */
const MAX_ALIAS_LENGTH = 4096;

export class Domain {
  readonly #driver: Driver;
  #ref: DomainRef;

  /** @internal Created by Connection lookups. */
  constructor(driver: Driver, ref: DomainRef) {
    this.#driver = driver;
    this.#ref = ref;
  }

  /** Domain name (virDomainGetName). */
  get name(): string {
    return this.#ref.name;
  }
  /** Domain UUID string (virDomainGetUUIDString). */
  get uuid(): string {
    return this.#ref.uuid;
  }
  /** Identity as of the last call on this handle. */
  get ref(): DomainRef {
    return { ...this.#ref };
  }

  getName(): string {
    return this.#ref.name;
  }
  getUUIDString(): string {
    return this.#ref.uuid;
  }
  /** virDomainGetID: the running id, or -1 when the domain is not running. */
  async getID(): Promise<number> {
    this.#ref = await this.#driver.refresh(this.#ref);
    return this.#ref.id;
  }

  /** virDomainCreate: starts a defined domain. */
  async create(): Promise<void> {
    await this.createWithFlags(0);
  }
  /** virDomainCreateWithFlags (DomainStart.PAUSED, ...). */
  async createWithFlags(flags: number): Promise<void> {
    checkFlagsArg(flags, 'virDomainCreateWithFlags');
    this.#ref = await this.#driver.create(this.#ref, flags);
  }
  /** virDomainDestroy */
  destroy(): Promise<void> {
    return this.#driver.destroy(this.#ref, 0);
  }
  async destroyFlags(flags: number): Promise<void> {
    checkFlagsArg(flags, 'virDomainDestroyFlags');
    return this.#driver.destroy(this.#ref, flags);
  }
  /** virDomainShutdown */
  shutdown(): Promise<void> {
    return this.#driver.shutdown(this.#ref, 0);
  }
  async shutdownFlags(flags: number): Promise<void> {
    checkFlagsArg(flags, 'virDomainShutdownFlags');
    return this.#driver.shutdown(this.#ref, flags);
  }
  /** virDomainSuspend */
  suspend(): Promise<void> {
    return this.#driver.suspend(this.#ref);
  }
  /** virDomainResume */
  resume(): Promise<void> {
    return this.#driver.resume(this.#ref);
  }
  /** virDomainUndefine */
  undefine(): Promise<void> {
    return this.#driver.undefine(this.#ref, 0);
  }
  async undefineFlags(flags: number): Promise<void> {
    checkFlagsArg(flags, 'virDomainUndefineFlags');
    return this.#driver.undefine(this.#ref, flags);
  }

  /** virDomainGetXMLDesc (DomainXML.INACTIVE for the persistent definition). */
  async getXMLDesc(flags = 0): Promise<string> {
    checkFlagsArg(flags, 'virDomainGetXMLDesc');
    return this.#driver.getXMLDesc(this.#ref, flags);
  }
  /** virDomainGetInfo */
  getInfo(): Promise<DomainInfo> {
    return this.#driver.getInfo(this.#ref);
  }
  /** virDomainGetState */
  getState(): Promise<DomainStateInfo> {
    return this.#driver.getState(this.#ref);
  }
  /** virDomainIsActive */
  isActive(): Promise<boolean> {
    return this.#driver.isActive(this.#ref);
  }
  /** virDomainIsPersistent */
  isPersistent(): Promise<boolean> {
    return this.#driver.isPersistent(this.#ref);
  }

  /** virDomainGetOSType */
  getOSType(): Promise<string> {
    return this.#driver.getOSType(this.#ref);
  }
  /** virDomainGetAutostart */
  getAutostart(): Promise<boolean> {
    return this.#driver.getAutostart(this.#ref);
  }
  /** virDomainHasManagedSaveImage */
  async hasManagedSaveImage(flags = 0): Promise<boolean> {
    checkFlagsArg(flags, 'virDomainHasManagedSaveImage');
    return this.#driver.hasManagedSaveImage(this.#ref, flags);
  }

  /** virDomainAttachDevice: live attach to a running domain. */
  async attachDevice(xml: string | Uint8Array): Promise<AttachResult> {
    return this.#driver.attachDevice(this.#ref, checkXmlArg(xml, 'xml', 'virDomainAttachDevice', 'device definition'), DeviceModify.LIVE);
  }
  /** virDomainAttachDeviceFlags (DeviceModify.CURRENT / LIVE / CONFIG). */
  async attachDeviceFlags(xml: string | Uint8Array, flags: number): Promise<AttachResult> {
    const fn = 'virDomainAttachDeviceFlags';
    const text = checkXmlArg(xml, 'xml', fn, 'device definition');
    return this.#driver.attachDevice(this.#ref, text, checkFlagsArg(flags, fn));
  }
  /**
   * virDomainDetachDevice: live detach from a running domain. With `options`, virtkit's hot-plug
   * contract (see detachDeviceFlags).
   */
  detachDevice(xml: string | Uint8Array): Promise<DetachResult>;
  detachDevice(xml: string | Uint8Array, options: DetachOptions): Promise<DetachOutcome>;
  async detachDevice(xml: string | Uint8Array, options?: DetachOptions): Promise<DetachResult | DetachOutcome> {
    const fn = 'virDomainDetachDevice';
    const text = checkXmlArg(xml, 'xml', fn, 'device definition');
    if (options === undefined) return this.#driver.detachDevice(this.#ref, text, DeviceModify.LIVE);
    const opts = checkDetachOptionsArg(options, fn);
    return this.#driver.detachDevice(this.#ref, text, DeviceModify.LIVE, contractOptions(this.#driver, opts));
  }
  /**
   * virDomainDetachDeviceFlags. Resolves to `removed` or `pending` (request sent, guest has not answered).
   * With `options` (even `{}`), virtkit's hot-plug contract instead of libvirt's behaviour: the result
   * also tells `status`, `reason`, `since` and `requestId`; `waitMs` waits for the guest; a device already
   * pending gets no second request unless `resend`; `ifPresent`, `isolate`, `ifBusy` (README: "The hot-plug contract").
   */
  detachDeviceFlags(xml: string | Uint8Array, flags: number): Promise<DetachResult>;
  detachDeviceFlags(xml: string | Uint8Array, flags: number, options: DetachOptions): Promise<DetachOutcome>;
  async detachDeviceFlags(xml: string | Uint8Array, flags: number, options?: DetachOptions): Promise<DetachResult | DetachOutcome> {
    const fn = 'virDomainDetachDeviceFlags';
    const text = checkXmlArg(xml, 'xml', fn, 'device definition');
    checkFlagsArg(flags, fn);
    if (options === undefined) return this.#driver.detachDevice(this.#ref, text, flags);
    const opts = checkDetachOptionsArg(options, fn);
    return this.#driver.detachDevice(this.#ref, text, flags, contractOptions(this.#driver, opts));
  }
  /** virDomainUpdateDeviceFlags (CD-ROM media change, interface link state; DeviceModify.FORCE). */
  async updateDeviceFlags(xml: string | Uint8Array, flags: number): Promise<void> {
    const fn = 'virDomainUpdateDeviceFlags';
    const text = checkXmlArg(xml, 'xml', fn, 'device definition');
    return this.#driver.updateDevice(this.#ref, text, checkFlagsArg(flags, fn));
  }
  /** virDomainDetachDeviceAlias: asynchronous; `pending` until the device-removed event. With `options`: the contract. */
  detachDeviceAlias(alias: string, flags?: number): Promise<DetachResult>;
  detachDeviceAlias(alias: string, flags: number, options: DetachOptions): Promise<DetachOutcome>;
  async detachDeviceAlias(alias: string, flags = 0, options?: DetachOptions): Promise<DetachResult | DetachOutcome> {
    const fn = 'virDomainDetachDeviceAlias';
    checkStringArg(alias, 'alias', fn, { nonEmpty: true, maxLength: MAX_ALIAS_LENGTH });
    checkFlagsArg(flags, fn);
    if (options === undefined) return this.#driver.detachDeviceAlias(this.#ref, alias, flags);
    const opts = checkDetachOptionsArg(options, fn);
    return this.#driver.detachDeviceAlias(this.#ref, alias, flags, contractOptions(this.#driver, opts));
  }

  /** The hot-plug contract: devices of the running domain whose unplug is outstanding, with reason and age. */
  pendingDevices(): Promise<PendingDevice[]> {
    return contractCall(this.#driver, 'pendingDevices', (d) => d.pendingDevices!(this.#ref));
  }
  /**
   * The hot-plug contract: adds a device plugged live only to the persistent definition with the MAC
   * and PCI address it has in the guest (libvirt callers who attach live and config in two calls get
   * two MACs), so it comes back in the same slot after a restart.
   */
  async persistDevice(alias: string): Promise<AttachResult> {
    checkStringArg(alias, 'alias', 'persistDevice', { nonEmpty: true, maxLength: MAX_ALIAS_LENGTH });
    return contractCall(this.#driver, 'persistDevice', (d) => d.persistDevice!(this.#ref, alias));
  }
  /**
   * The hot-plug contract: cuts a device whose unplug is pending off from the host without the guest's
   * help (an interface's link goes down and its tap leaves its bridge; a disk loses access to its image)
   * and marks it `pending-until-shutdown`. It leaves when the guest acknowledges, or with the domain.
   */
  async isolateDevice(alias: string): Promise<DetachOutcome> {
    checkStringArg(alias, 'alias', 'isolateDevice', { nonEmpty: true, maxLength: MAX_ALIAS_LENGTH });
    return contractCall(this.#driver, 'isolateDevice', (d) => d.isolateDevice!(this.#ref, alias));
  }

  /**
   * Declarative devices: compares a desired full domain XML with the current definition(s) and returns
   * the hot-plug calls (attach / detach / update, each with its DeviceModify flags) that make the devices
   * equal, in the order applyDevices runs them; what no hot-plug call can change (memory, vCPUs, machine
   * type, os, devices that cannot be plugged live) is listed in `needsRestart`. Changes nothing.
   */
  async planDevices(desiredXml: string | Uint8Array): Promise<DevicePlan> {
    const xml = checkXmlArg(desiredXml, 'desiredXml', 'planDevices', 'desired domain definition');
    return contractCall(this.#driver, 'planDevices', (d) => d.planDevices!(this.#ref, xml));
  }
  /**
   * Declarative devices: plans (see planDevices) and runs the calls: detaches first (the hot-plug
   * contract's outcome each; `waitMs` as for detachDeviceFlags), then updates, then attaches; stops at
   * the first failure (the rest `skipped`). `needsRestart` entries are never applied.
   */
  async applyDevices(desiredXml: string | Uint8Array, options?: ApplyOptions): Promise<ApplyResult> {
    const fn = 'applyDevices';
    const xml = checkXmlArg(desiredXml, 'desiredXml', fn, 'desired domain definition');
    const opts = checkOptionsArg<ApplyOptions>(options, 'options', fn);
    return contractCall(this.#driver, 'applyDevices', (d) => d.applyDevices!(this.#ref, xml, opts));
  }

  /** virDomainReboot (DomainReboot flags: how the guest is asked; 0 lets the driver choose). */
  async reboot(flags = 0): Promise<void> {
    const fn = 'virDomainReboot';
    checkFlagsArg(flags, fn);
    return need(this.#driver.reboot, fn).call(this.#driver, this.#ref, flags);
  }
  /** virDomainSetAutostart: start the domain when the driver starts (persistent domains only). */
  async setAutostart(autostart: boolean): Promise<void> {
    const fn = 'virDomainSetAutostart';
    if (typeof autostart !== 'boolean') checkIntArg(autostart, 'autostart', fn, 0, 1);
    return need(this.#driver.setAutostart, fn).call(this.#driver, this.#ref, Boolean(autostart));
  }
  /** virDomainSetMemory: the running domain's current (balloon) memory, in KiB. */
  setMemory(kib: number): Promise<void> {
    return this.#setMemory(kib, DomainMemory.LIVE, 'virDomainSetMemory');
  }
  /** virDomainSetMaxMemory: the maximum memory, in KiB (the definition when stopped; refused live by QEMU-like drivers). */
  setMaxMemory(kib: number): Promise<void> {
    return this.#setMemory(kib, DomainMemory.CURRENT | DomainMemory.MAXIMUM, 'virDomainSetMaxMemory');
  }
  /** virDomainSetMemoryFlags (DomainMemory.LIVE / CONFIG / MAXIMUM), in KiB. */
  setMemoryFlags(kib: number, flags: number): Promise<void> {
    return this.#setMemory(kib, flags, 'virDomainSetMemoryFlags');
  }
  async #setMemory(kib: number, flags: number, fn: string): Promise<void> {
    checkIntArg(kib, 'memory', fn, 0, Number.MAX_SAFE_INTEGER);
    // libvirt's wording (naming virDomainSetMemoryFlags, which every variant goes through), without a prefix.
    if (kib === 0) throw new VirtError(ErrorCode.INVALID_ARG, 'memory in virDomainSetMemoryFlags must not be zero');
    checkFlagsArg(flags, fn);
    return need(this.#driver.setMemoryFlags, fn).call(this.#driver, this.#ref, kib, flags);
  }
  /** virDomainSetVcpus: the running domain's vCPU count. */
  setVcpus(count: number): Promise<void> {
    return this.#setVcpus(count, DomainVcpus.LIVE, 'virDomainSetVcpus');
  }
  /** virDomainSetVcpusFlags (DomainVcpus.LIVE / CONFIG / MAXIMUM). */
  setVcpusFlags(count: number, flags: number): Promise<void> {
    return this.#setVcpus(count, flags, 'virDomainSetVcpusFlags');
  }
  async #setVcpus(count: number, flags: number, fn: string): Promise<void> {
    // libvirt's nvcpus is a C unsigned int; the driver says how many the domain may have.
    checkIntArg(count, 'nvcpus', fn, 0, MAX_UINT32);
    checkFlagsArg(flags, fn);
    return need(this.#driver.setVcpusFlags, fn).call(this.#driver, this.#ref, count, flags);
  }
  /** virDomainInterfaceAddresses (InterfaceAddressesSource.LEASE / AGENT / ARP). */
  async interfaceAddresses(source: number, flags = 0): Promise<DomainInterface[]> {
    const fn = 'virDomainInterfaceAddresses';
    checkIntArg(source, 'source', fn, 0, 2);
    checkFlagsArg(flags, fn);
    return need(this.#driver.interfaceAddresses, fn).call(this.#driver, this.#ref, source, flags);
  }
  /** virDomainGetBlockInfo: capacity, allocation and physical size in bytes of a disk (target or source path). */
  async getBlockInfo(disk: string, flags = 0): Promise<BlockInfo> {
    const fn = 'virDomainGetBlockInfo';
    checkStringArg(disk, 'disk', fn, { nonEmpty: true, maxLength: MAX_ALIAS_LENGTH });
    checkFlagsArg(flags, fn);
    return need(this.#driver.getBlockInfo, fn).call(this.#driver, this.#ref, disk, flags);
  }
  /** virDomainOpenConsole: a stream to the guest's console (`devname`: alias such as serial0; default the first console). */
  async openConsole(devname?: string, flags = 0): Promise<ConsoleStream> {
    const fn = 'virDomainOpenConsole';
    if (devname !== undefined) checkStringArg(devname, 'dev_name', fn, { nonEmpty: true, maxLength: MAX_ALIAS_LENGTH });
    checkFlagsArg(flags, fn);
    return need(this.#driver.openConsole, fn).call(this.#driver, this.#ref, devname, flags);
  }
}

// A caller that drops every handle between calls would otherwise lose the handles' optimized code at each full GC.
keepShape(new Domain({} as Driver, { name: '', uuid: '', id: -1 }));
