/** libvirt's device iteration order (virDomainDeviceInfoIterate with all consoles): by kind, document order within a kind. */
import type { XmlElement } from '../../xml/index.js';
import type { DomainDef } from '../domain.js';

const ITERATE_ORDER = ['disk', 'interface', 'sound', 'hostdev', 'video', 'controller', 'smartcard', 'serial', 'parallel', 'channel', 'console', 'input', 'filesystem', 'watchdog', 'memballoon', 'hub', 'shmem', 'tpm', 'panic', 'memory', 'redirdev', 'rng', 'iommu', 'vsock'];

/** The domain's devices of the kinds libvirt iterates, in its order. */
export function devicesInIterateOrder(def: DomainDef): XmlElement[] {
  return def.elementsOfKinds(ITERATE_ORDER);
}
