/**
 * Everything that depends on the hypervisor a domain is for, chosen in one place by its
 * type: define-time defaults, MAC prefix, aliases and PCI placement (conf's Flavour) and
 * the live hot-plug refusals. qemu/kvm/kqemu get QEMU's, xen gets libxl's; every other
 * type the test driver accepts is modelled on QEMU, as virtkit's test driver always was.
 */
import { type Flavour, flavourOf } from '../../conf/index.js';
import { qemuRules } from './qemu.js';
import type { HotplugRules } from './types.js';
import { xenRules } from './xen.js';

export type { HotplugRules } from './types.js';
export { checkControllerUnused, checkNewController, checkNewDiskTarget } from './common.js';

export interface DomainTypeRules {
  readonly flavour: Flavour;
  readonly hotplug: HotplugRules;
}

const cache = new Map<string, DomainTypeRules>();

export function rulesFor(domainType: string): DomainTypeRules {
  let rules = cache.get(domainType);
  if (!rules) {
    const flavour = flavourOf(domainType);
    rules = { flavour, hotplug: flavour.family === 'xen' ? xenRules : qemuRules };
    cache.set(domainType, rules);
  }
  return rules;
}
