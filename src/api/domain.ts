/** A handle on one domain, like libvirt's virDomainPtr: name and UUID fixed, everything else asked of the driver. */
import type { AttachResult, DetachResult, DomainInfo, DomainStateInfo, Driver } from '../drivers/driver.js';
import { DeviceModify } from '../shared/flags.js';
import type { DomainRef } from '../shared/events.js';

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
    this.#ref = await this.#driver.create(this.#ref, flags);
  }
  /** virDomainDestroy */
  destroy(): Promise<void> {
    return this.#driver.destroy(this.#ref, 0);
  }
  destroyFlags(flags: number): Promise<void> {
    return this.#driver.destroy(this.#ref, flags);
  }
  /** virDomainShutdown */
  shutdown(): Promise<void> {
    return this.#driver.shutdown(this.#ref, 0);
  }
  shutdownFlags(flags: number): Promise<void> {
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
  undefineFlags(flags: number): Promise<void> {
    return this.#driver.undefine(this.#ref, flags);
  }

  /** virDomainGetXMLDesc (DomainXML.INACTIVE for the persistent definition). */
  getXMLDesc(flags = 0): Promise<string> {
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
  hasManagedSaveImage(flags = 0): Promise<boolean> {
    return this.#driver.hasManagedSaveImage(this.#ref, flags);
  }

  /** virDomainAttachDevice: live attach to a running domain. */
  attachDevice(xml: string): Promise<AttachResult> {
    return this.#driver.attachDevice(this.#ref, xml, DeviceModify.LIVE);
  }
  /** virDomainAttachDeviceFlags (DeviceModify.CURRENT / LIVE / CONFIG). */
  attachDeviceFlags(xml: string, flags: number): Promise<AttachResult> {
    return this.#driver.attachDevice(this.#ref, xml, flags);
  }
  /** virDomainDetachDevice: live detach from a running domain. */
  detachDevice(xml: string): Promise<DetachResult> {
    return this.#driver.detachDevice(this.#ref, xml, DeviceModify.LIVE);
  }
  /** virDomainDetachDeviceFlags. Resolves to `removed` or `pending` (request sent, guest has not answered). */
  detachDeviceFlags(xml: string, flags: number): Promise<DetachResult> {
    return this.#driver.detachDevice(this.#ref, xml, flags);
  }
  /** virDomainUpdateDeviceFlags (CD-ROM media change, interface link state; DeviceModify.FORCE). */
  updateDeviceFlags(xml: string, flags: number): Promise<void> {
    return this.#driver.updateDevice(this.#ref, xml, flags);
  }
  /** virDomainDetachDeviceAlias: asynchronous; `pending` until the device-removed event. */
  detachDeviceAlias(alias: string, flags = 0): Promise<DetachResult> {
    return this.#driver.detachDeviceAlias(this.#ref, alias, flags);
  }
}
