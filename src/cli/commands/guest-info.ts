/** `domifaddr` and `domblkinfo`: a running guest's addresses, a disk's sizes, in virsh's layouts. */
import type { Domain } from '../../api/domain.js';
import { listDisks } from '../../api/device-summaries.js';
import { InterfaceAddressesSource, IPAddrType } from '../../api/flags.js';
import type { BlockInfo } from '../../shared/host-types.js';
import { defineCommand, flag, str } from '../command.js';
import { UsageError, withContext } from '../errors.js';
import { formatKeyValue } from '../format/keyvalue.js';
import { prettyCapacity } from '../format/size.js';
import { formatTable } from '../format/table.js';
import { domainOption } from './options.js';

const SOURCES: Record<string, number> = {
  lease: InterfaceAddressesSource.LEASE,
  agent: InterfaceAddressesSource.AGENT,
  arp: InterfaceAddressesSource.ARP,
};

/** virsh's fixed-width domifaddr line. */
function addrLine(name: string, mac: string, proto: string, addr: string): string {
  return ` ${name.padEnd(10)} ${mac.padEnd(17)}    ${proto.padEnd(12)} ${addr}\n`;
}

export const domifaddr = defineCommand({
  name: 'domifaddr',
  group: 'monitor',
  summary: "Get network interfaces' addresses for a running domain",
  description: "Get network interfaces' addresses for a running domain",
  options: [
    domainOption(),
    { name: 'interface', kind: 'string', help: 'network interface name' },
    { name: 'full', kind: 'bool', help: 'always display names and MACs of interfaces' },
    { name: 'source', kind: 'string', help: "address source: 'lease', 'agent', or 'arp'" },
  ],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const sourceName = str(args, 'source') ?? 'lease';
    const source = SOURCES[sourceName];
    if (source === undefined) throw new UsageError(`Unknown data source '${sourceName}'`);
    const ifaces = await withContext('Failed to query for interfaces addresses', () => dom.interfaceAddresses(source, 0));
    const only = str(args, 'interface');
    let out = addrLine('Name', 'MAC address', 'Protocol', 'Address') + `${'-'.repeat(79)}\n`;
    for (const iface of ifaces) {
      if (only !== undefined && iface.name !== only) continue;
      const mac = iface.hwaddr ?? '-';
      if (iface.addrs.length === 0) out += addrLine(iface.name, mac, 'N/A', 'N/A');
      iface.addrs.forEach((a, i) => {
        // Without --full only an interface's first line names it.
        const first = i === 0 || flag(args, 'full');
        out += addrLine(first ? iface.name : '-', first ? mac : '-', a.type === IPAddrType.IPV6 ? 'ipv6' : 'ipv4', `${a.addr}/${a.prefix}`);
      });
    }
    ctx.out(out);
  },
});

function sizes(info: BlockInfo | undefined, human: boolean): [string, string, string] {
  if (!info) return ['-', '-', '-'];
  const show = (n: number): string => (human ? prettyCapacity(n, 3) : String(n));
  return [show(info.capacity), show(info.allocation), show(info.physical)];
}

/** Every disk's sizes; a disk without media shows dashes, as virsh does. */
async function allDisks(dom: Domain, human: boolean, quiet: boolean): Promise<string> {
  const rows: string[][] = [];
  for (const d of listDisks(await dom.getXMLDesc(0))) {
    const info = d.source === undefined ? undefined : await dom.getBlockInfo(d.target, 0);
    rows.push([d.target, ...sizes(info, human)]);
  }
  return formatTable(['Target', 'Capacity', 'Allocation', 'Physical'], rows, quiet);
}

export const domblkinfo = defineCommand({
  name: 'domblkinfo',
  group: 'monitor',
  summary: 'domain block device size information',
  description: 'Get block device size info for a domain.',
  options: [
    domainOption(),
    { name: 'device', kind: 'string', help: 'block device' },
    { name: 'human', kind: 'bool', help: 'Human readable output' },
    { name: 'all', kind: 'bool', help: 'display all block devices info' },
  ],
  exclusive: [['all', 'device']],
  async run(ctx, args) {
    const device = str(args, 'device');
    if (!flag(args, 'all') && device === undefined) throw new UsageError("command 'domblkinfo' requires <device> option");
    const dom = await ctx.domain(str(args, 'domain')!);
    const human = flag(args, 'human');
    if (flag(args, 'all')) {
      ctx.out(await allDisks(dom, human, ctx.quiet));
      return;
    }
    const [capacity, allocation, physical] = sizes(await dom.getBlockInfo(device!, 0), human);
    ctx.out(formatKeyValue([['Capacity', capacity], ['Allocation', allocation], ['Physical', physical]]));
  },
});
