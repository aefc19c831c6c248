/**
 * The drivers the contract suite runs against. Adding a driver is one line here (or, without
 * editing, `VIRTKIT_CONTRACT_URIS='uri1 uri2'` in the environment, e.g. for a local libvirtd).
 *
 * `{tmp}` in a URI becomes a fresh private folder per connection (removed after the test), so
 * every connection starts from a driver's pristine state.
 */

import type { OpenOptions } from '../../src/index.js';
import { qemuContractTarget } from '../qemu/contract-target.js';
import { serveVirtkitd } from '../remote/contract-target.js';

/** Features some drivers lack (see `lacks`). */
export type Feature = 'graphics';

export interface ContractTarget {
  /** Connection URI template. */
  uri: string;
  /** Domain types the driver runs; the founding scenario runs each of xen and qemu it supports. */
  domainTypes: readonly string[];
  /** The driver reads `<vkt:unplug>` (the test driver's simulated guest), so late/never/refusing guests can be staged. */
  simulatedGuest: boolean;
  /** The driver keeps virtkit's hot-plug contract (detach options, pending devices, isolate): local drivers, not the remote one. */
  hotplugContract: boolean;
  /** Rewrites a contract domain for this driver (e.g. disk images and kernel a real QEMU can boot); `tmp` is the connection's folder. */
  adaptDomain?: (xml: string, tmp: string) => string;
  /** Rewrites a device XML of the contract the same way (files and bridges that exist on the host). */
  adaptDevice?: (xml: string, tmp: string) => string;
  /**
   * How long a live detach may have to wait for the guest's answer when the guest answers at all: the
   * unplug timeout of connections opened without one. A real guest must boot before it answers a PCI unplug.
   */
  guestAnswerMs?: number;
  /** Why this target cannot run here (a missing component): its tests are skipped, or fail under CI=true. */
  missing?: string;
  /** Features the driver does not have, each with the reason: tests that need one are not declared there; `lacking(feature)` tests how it refuses them. */
  lacks?: Partial<Record<Feature, string>>;
  /** Starts what the URI needs in the connection's folder (e.g. a daemon); returns how to stop it. */
  prepare?: (tmp: string, options: OpenOptions) => Promise<() => Promise<void>>;
}

const test = { domainTypes: ['qemu', 'xen'], simulatedGuest: true } as const;

export const TARGETS: ContractTarget[] = [
  { uri: 'test:///default', ...test, hotplugContract: true },
  { uri: 'test:///default?state={tmp}', ...test, hotplugContract: true },
  // Real QEMU processes booting the test guest, on a private root folder per connection.
  qemuContractTarget(),
  // The remote driver against virtkitd (one daemon per connection, on a socket in its folder).
  { uri: 'test+unix:///default?socket={tmp}/sock', ...test, hotplugContract: false, prepare: serveVirtkitd },
  ...fromEnvironment(process.env.VIRTKIT_CONTRACT_URIS),
];

function fromEnvironment(text: string | undefined): ContractTarget[] {
  return (text ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((uri) => ({ uri, domainTypes: ['qemu'], simulatedGuest: uri.startsWith('test'), hotplugContract: !/^[a-z]+\+/.test(uri) }));
}
