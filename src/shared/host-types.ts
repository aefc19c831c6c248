/**
 * What the optional Driver methods of the host and guest-information APIs return
 * (virNodeGetInfo, virDomainInterfaceAddresses, virDomainGetBlockInfo, network and
 * storage listings), with libvirt's fields and units.
 */

/** virNodeInfo. */
export interface NodeInfo {
  /** CPU model / architecture, e.g. "x86_64". */
  model: string;
  /** Memory size in KiB. */
  memory: number;
  /** Number of active CPUs. */
  cpus: number;
  /** CPU frequency in MHz. */
  mhz: number;
  /** NUMA cells. */
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

/** One address of a guest interface (virDomainIPAddress). */
export interface InterfaceAddress {
  /** IPAddrType: 0 = IPv4, 1 = IPv6. */
  type: number;
  addr: string;
  prefix: number;
}

/** One guest interface and its addresses (virDomainInterface). */
export interface DomainInterface {
  name: string;
  /** MAC address, when known. */
  hwaddr?: string;
  addrs: InterfaceAddress[];
}

/** virDomainBlockInfo, in bytes. */
export interface BlockInfo {
  capacity: number;
  allocation: number;
  physical: number;
}

/** A virtual network, as virsh's net-list and net-info show it. */
export interface NetworkInfo {
  name: string;
  uuid: string;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  /** Host bridge, when it has one. */
  bridge?: string;
}

/** A storage pool (virStoragePoolInfo plus identity, persistence and autostart), sizes in bytes. */
export interface StoragePoolInfo {
  name: string;
  uuid: string;
  /** Pool type as in `<pool type>`: dir, fs, netfs, logical, disk, iscsi, ... */
  type: string;
  /** StoragePoolState. */
  state: number;
  persistent: boolean;
  autostart: boolean;
  capacity: number;
  allocation: number;
  available: number;
}

/** A storage volume (virStorageVolInfo plus name and path), sizes in bytes. */
export interface StorageVolInfo {
  name: string;
  path: string;
  /** StorageVolType. */
  type: number;
  capacity: number;
  allocation: number;
}

/** A guest console: bytes from the guest come out of `output`, `write` sends to it, `close` disconnects. */
export interface ConsoleStream {
  output: AsyncIterable<Uint8Array>;
  write(data: Uint8Array): void;
  close(): Promise<void>;
}
