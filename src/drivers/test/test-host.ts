/**
 * The test driver's host and guest services beyond hot-plug, answering like libvirt's
 * test driver: a fixed host (16 i686 CPUs in 2 NUMA cells, 3 GiB), the network `default`
 * (192.168.122.0/24, DHCP from .2) and the empty directory pool `default-pool` (100 GiB)
 * it seeds, guest addresses derived from the domain id as it derives them, 1 TiB disks, and
 * a console that echoes what is typed (there is no guest OS to answer).
 */
import type { BlockInfo, ConsoleStream, DomainInterface, NetworkInfo, NodeInfo, StoragePoolInfo, StorageVolInfo } from '../../shared/host-types.js';
import { ErrorCode, virtError } from '../../errors.js';
import type { LiveDomain, Runtime } from '../../hypervisor/backend.js';
import { IPAddrType, StoragePoolState } from '../../shared/flags.js';
import { el, serializeXml, type XmlElement } from '../../xml/index.js';
import { SimulatedGuest } from './simulated-guest.js';

/** The network libvirt's test driver seeds. */
const DEFAULT_NETWORK = {
  info: { name: 'default', uuid: 'dd8fe884-6c02-601e-7551-cca97df1c5df', active: true, persistent: true, autostart: false, bridge: 'virbr0' },
  /** 192.168.122.0/24; the DHCP range starts at .2. */
  prefix: [192, 168, 122] as const,
  netmaskBits: 24,
  dhcpStart: 2,
};

const GiB = 1024 ** 3;
/** The pool libvirt's test driver seeds: a directory pool holding no volumes. */
const DEFAULT_POOL: StoragePoolInfo = {
  name: 'default-pool',
  uuid: 'dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566',
  type: 'dir',
  state: StoragePoolState.RUNNING,
  persistent: true,
  autostart: false,
  capacity: 100 * GiB,
  allocation: 0,
  available: 100 * GiB,
};

/** Every disk of the test host is a 1 TiB image, as in libvirt's test driver. */
const TEST_BLOCK_INFO: BlockInfo = { capacity: 1_099_506_450_432, allocation: 1_099_511_627_776, physical: 1_099_511_627_776 };

const NODE: NodeInfo = { model: 'i686', memory: 3_145_728, cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2 };

/** The host section and guest list of the test host's capabilities, built the way libvirt lays them out. */
function capabilitiesXml(): string {
  const cells = el('cells', { num: 2 });
  [
    { memory: 2_097_152, pageSize: 4 },
    { memory: 4_194_304, pageSize: 8 },
  ].forEach((c, id) => {
    const cell = el('cell', { id }, el('memory', { unit: 'KiB' }, String(c.memory)));
    cell.append(el('pages', { unit: 'KiB', size: c.pageSize }, '524288'));
    for (const size of [2048, 1_048_576]) cell.append(el('pages', { unit: 'KiB', size }, '0'));
    const cpus = el('cpus', { num: 8 });
    for (let core = 0; core < 8; core++) {
      const cpu = id * 8 + core;
      cpus.append(el('cpu', { id: cpu, socket_id: id, die_id: 0, core_id: core, siblings: cpu }));
    }
    cell.append(cpus);
    cells.append(cell);
  });
  const cpu = el('cpu', {}, el('arch', {}, 'i686'), el('features', {}, el('pae'), el('nonpae')));
  for (const size of [4, 8, 2048, 1_048_576]) cpu.append(el('pages', { unit: 'KiB', size }));
  const host = el('host', {}, cpu, el('power_management'), el('iommu', { support: 'no' }), el('topology', {}, cells));
  const guest = (osType: string): XmlElement =>
    el(
      'guest',
      {},
      el('os_type', {}, osType),
      el('arch', { name: 'i686' }, el('wordsize', {}, '32'), el('emulator', {}, '/usr/bin/test-hv'), el('domain', { type: 'test' })),
      el('features', {}, el('pae'), el('nonpae')),
    );
  // libvirt separates the top-level sections with blank lines.
  const parts = [host, guest('hvm'), guest('xen')].map((e) => serializeXml(e, '  ').trimEnd());
  return `<capabilities>\n\n${parts.join('\n\n')}\n\n</capabilities>\n`;
}

/** An IPv4 address as text. */
const ipv4 = (bytes: readonly number[]): string => bytes.join('.');

/** A console with nobody on the other side but an echo: what is written comes back. */
function echoConsole(): ConsoleStream {
  const queue: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  async function* output(): AsyncGenerator<Uint8Array> {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (closed) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  return {
    output: output(),
    write(data) {
      if (closed) return;
      queue.push(Uint8Array.from(data));
      poke();
    },
    async close() {
      closed = true;
      poke();
    },
  };
}

/** The simulated guest plus what libvirt's test driver answers about guests and the host. */
export class TestBackend extends SimulatedGuest {
  async reboot(): Promise<Runtime | undefined> {
    return undefined;
  }
  async setMemory(): Promise<Runtime | undefined> {
    return undefined;
  }
  async setVcpus(): Promise<Runtime | undefined> {
    return undefined;
  }

  /**
   * libvirt's test driver invents addresses: a NIC on a network gets the network's DHCP start
   * + 20 per domain id after the first + its index + 1; any other NIC 192.168.0.(index + 1).
   */
  async interfaceAddresses(dom: LiveDomain): Promise<DomainInterface[]> {
    return dom.def.elementsNamed('interface').map((nic, i) => {
      const name = nic.child('target')?.attr('dev') ?? `vnet${i}`;
      const hwaddr = nic.child('mac')?.attr('address');
      if (nic.attr('type') === 'network') {
        const net = nic.child('source')?.attr('network');
        if (net !== DEFAULT_NETWORK.info.name) throw virtError(ErrorCode.NO_NETWORK, `no network with matching name '${net ?? ''}'`);
        const host = DEFAULT_NETWORK.dhcpStart + 20 * (dom.id - 1) + i + 1;
        return { name, hwaddr, addrs: [{ type: IPAddrType.IPV4, addr: ipv4([...DEFAULT_NETWORK.prefix, host]), prefix: DEFAULT_NETWORK.netmaskBits }] };
      }
      return { name, hwaddr, addrs: [{ type: IPAddrType.IPV4, addr: ipv4([192, 168, 0, i + 1]), prefix: 24 }] };
    });
  }

  async blockInfo(): Promise<BlockInfo> {
    return { ...TEST_BLOCK_INFO };
  }

  async openConsole(): Promise<ConsoleStream> {
    return echoConsole();
  }

  async nodeInfo(): Promise<NodeInfo> {
    return { ...NODE };
  }

  async capabilities(): Promise<string> {
    return capabilitiesXml();
  }

  async networks(): Promise<NetworkInfo[]> {
    return [{ ...DEFAULT_NETWORK.info }];
  }

  async storagePools(): Promise<StoragePoolInfo[]> {
    return [{ ...DEFAULT_POOL }];
  }

  async volumes(pool: string): Promise<StorageVolInfo[]> {
    if (pool !== DEFAULT_POOL.name && pool !== DEFAULT_POOL.uuid) {
      throw virtError(ErrorCode.NO_STORAGE_POOL, `no storage pool with matching name '${pool}'`);
    }
    return [];
  }
}
