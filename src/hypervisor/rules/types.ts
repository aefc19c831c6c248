/** The live hot-plug refusals of one hypervisor (which devices and buses plug and unplug while running). */
import type { DomainDef } from '../../conf/index.js';
import type { XmlElement } from '../../xml/index.js';

export interface HotplugRules {
  /** Whose rules these are, e.g. "qemu", "xen". */
  readonly hypervisor: string;
  /**
   * Throws the hypervisor's VirtError when `dev` cannot be plugged into the running domain `live`
   * (which does not hold `dev` yet), in the order the hypervisor's driver checks.
   */
  checkLiveAttach(dev: XmlElement, live: DomainDef): void;
  /** Throws the hypervisor's VirtError when the live device `dev` cannot be unplugged. */
  checkLiveDetach(dev: XmlElement): void;
}
