/**
 * The drivers the contract suite runs against. Adding a driver is one line here (or, without
 * editing, `VIRTKIT_CONTRACT_URIS='uri1 uri2'` in the environment, e.g. for a local libvirtd).
 *
 * `{tmp}` in a URI becomes a fresh private folder per connection (removed after the test), so
 * every connection starts from a driver's pristine state.
 */

export interface ContractTarget {
  /** Connection URI template. */
  uri: string;
  /** Domain types the driver runs; the founding scenario runs each of xen and qemu it supports. */
  domainTypes: readonly string[];
  /** The driver reads `<vkt:unplug>` (the test driver's simulated guest), so late/never/refusing guests can be staged. */
  simulatedGuest: boolean;
  /** Rewrites a contract domain for this driver (e.g. disk images and kernel a real QEMU can boot); `tmp` is the connection's folder. */
  adaptDomain?: (xml: string, tmp: string) => string;
}

const test = { domainTypes: ['qemu', 'xen'], simulatedGuest: true } as const;

export const TARGETS: ContractTarget[] = [
  { uri: 'test:///default', ...test },
  { uri: 'test:///default?state={tmp}', ...test },
  // h7-qemu: { uri: 'qemu:///session?root={tmp}', domainTypes: ['qemu'], simulatedGuest: false, adaptDomain: bootableGuest },
  // h8-remote: { uri: 'test+unix:///default?socket={tmp}/sock', ...test },
  ...fromEnvironment(process.env.VIRTKIT_CONTRACT_URIS),
];

function fromEnvironment(text: string | undefined): ContractTarget[] {
  return (text ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((uri) => ({ uri, domainTypes: ['qemu'], simulatedGuest: uri.startsWith('test') }));
}
