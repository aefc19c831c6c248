/** libvirt's device iteration order (virDomainDeviceInfoIterate with all consoles): by kind, document order within a kind. */
import type { XmlElement } from '../../xml/index.js';
import type { DomainDef } from '../domain.js';

const ITERATE_ORDER = ['disk', 'interface', 'sound', 'hostdev', 'video', 'controller', 'smartcard', 'serial', 'parallel', 'channel', 'console', 'input', 'filesystem', 'watchdog', 'memballoon', 'hub', 'shmem', 'tpm', 'panic', 'memory', 'redirdev', 'rng', 'iommu', 'vsock'];
const RANK = new Map(ITERATE_ORDER.map((kind, i) => [kind, i]));

/** The domain's devices of the kinds libvirt iterates, in its order; one pass over `<devices>`. */
export function devicesInIterateOrder(def: DomainDef): XmlElement[] {
  const byKind: (XmlElement[] | undefined)[] = new Array(ITERATE_ORDER.length);
  let n = 0;
  for (const e of def.deviceElements()) {
    const r = RANK.get(e.name);
    if (r === undefined) continue;
    const same = byKind[r];
    if (same) same.push(e);
    else byKind[r] = [e];
    n++;
  }
  const out: XmlElement[] = new Array(n);
  let w = 0;
  for (let r = 0; r < byKind.length; r++) {
    const same = byKind[r];
    if (same) for (let i = 0; i < same.length; i++) out[w++] = same[i]!;
  }
  return out;
}
