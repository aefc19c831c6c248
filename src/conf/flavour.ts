/**
 * What depends on the domain type: MAC prefix, which host-side names are the
 * hypervisor's, whether QEMU-style implicit devices and PCI addresses are added.
 */
import { QEMU_MAC_PREFIX, XEN_MAC_PREFIX } from './mac.js';

export interface Flavour {
  /** qemu (qemu/kvm), xen, or test (anything else the test driver accepts). */
  family: 'qemu' | 'xen' | 'test';
  macPrefix: string;
  /** `<target dev>` prefixes that belong to the hypervisor and are dropped from inactive XML. */
  reservedTargetPrefixes: readonly string[];
  /** Add QEMU's implicit controllers/devices and assign PCI/drive addresses at define and attach. */
  qemuDefaults: boolean;
}

const GENERATED_PREFIXES = ['vnet', 'macvtap', 'macvlan'] as const;

const qemu: Flavour = { family: 'qemu', macPrefix: QEMU_MAC_PREFIX, reservedTargetPrefixes: GENERATED_PREFIXES, qemuDefaults: true };
const xen: Flavour = {
  family: 'xen',
  macPrefix: XEN_MAC_PREFIX,
  // libxl registers "vif" as its netPrefix, so dumped vifN.M names are never pinned.
  reservedTargetPrefixes: [...GENERATED_PREFIXES, 'vif'],
  qemuDefaults: false,
};
const test: Flavour = { family: 'test', macPrefix: QEMU_MAC_PREFIX, reservedTargetPrefixes: GENERATED_PREFIXES, qemuDefaults: false };

/** Domain types the test driver accepts (libvirt's virDomainVirtType names). */
export const DOMAIN_TYPES = new Set([
  'none',
  'qemu',
  'kqemu',
  'kvm',
  'xen',
  'lxc',
  'uml',
  'openvz',
  'test',
  'vmware',
  'hyperv',
  'vbox',
  'phyp',
  'parallels',
  'bhyve',
  'vz',
  'hvf',
]);

export function flavourOf(domainType: string): Flavour {
  if (domainType === 'qemu' || domainType === 'kvm' || domainType === 'kqemu' || domainType === 'hvf') return qemu;
  if (domainType === 'xen') return xen;
  return test;
}
