/** Starting a definition: the live copy with every runtime name; naming contexts over the driver-wide counters. */
import { assignLiveNames, type DomainDef, flavourOf, stripRuntimeNames, type LiveNaming } from '../conf/index.js';
import { ErrorCode, virtError } from '../errors.js';
import type { LiveState } from './domain-obj.js';

/**
 * Driver-wide counters. Persisted before any name they hand out is committed anywhere
 * (a reservation), so after a crash they can only have moved on, never back.
 */
export interface Counters {
  /** Next running-domain id. */
  nextId: number;
  /** Next number per host-side name prefix (vnet, macvtap): driver-wide, never reused. */
  taps: Record<string, number>;
}

export function freshCounters(): Counters {
  return { nextId: 1, taps: {} };
}

/** Whether a host-side name is taken on the host already (by another program, or a leftover). */
export type HostNameTaken = (name: string) => boolean;

/** How many taken names one allocation steps over before giving up (libvirt's virNetDevGenerateName also gives up). */
const MAX_TAKEN_SKIPS = 4096;

/** Naming context over the driver counters and a domain's NIC sequence; `nicSeq()` reports the new sequence. */
export function namingFor(counters: Counters, domid: number, nicSeq: number, taken?: HostNameTaken): LiveNaming & { nicSeq(): number } {
  let seq = nicSeq;
  return {
    domid,
    allocTap(prefix) {
      // As libvirt: the counter never goes back, and a name the host already has is stepped over.
      for (let skipped = 0; ; skipped++) {
        const n = counters.taps[prefix] ?? 0;
        counters.taps[prefix] = n + 1;
        const name = `${prefix}${n}`;
        if (!taken?.(name)) return name;
        if (skipped >= MAX_TAKEN_SKIPS) {
          throw virtError(ErrorCode.INTERNAL_ERROR, `no free host interface name with prefix '${prefix}' (the last ${MAX_TAKEN_SKIPS} tried exist)`);
        }
      }
    },
    allocDevid() {
      return seq++;
    },
    nicSeq: () => seq,
  };
}

/** Builds the live state of a domain being started from `def` (an inactive definition, not modified). */
export function startLive(def: DomainDef, counters: Counters, state: number, reason: number, taken?: HostNameTaken): LiveState {
  const id = counters.nextId++;
  const live = def.clone();
  // libvirt prints id right after type: <domain type='kvm' id='1'>
  live.root.removeAttr('id');
  live.root.attrs.splice(live.root.attrs.findIndex(([k]) => k === 'type') + 1, 0, ['id', String(id)]);
  const naming = namingFor(counters, id, 0, taken);
  assignLiveNames(live, flavourOf(live.type), naming);
  return { id, state, reason, def: live, nicSeq: naming.nicSeq(), startedAt: Date.now(), pending: [], runtime: {} };
}

/** The inactive form of a live definition (for INACTIVE dumps of transient domains). */
export function inactiveOf(live: DomainDef): DomainDef {
  const d = live.clone();
  d.root.removeAttr('id');
  const flavour = flavourOf(d.type);
  for (const dev of d.deviceElements()) stripRuntimeNames(dev, flavour);
  return d;
}
