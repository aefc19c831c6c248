/** Host commands: `nodeinfo`, `capabilities`, `domcapabilities`. */
import { defineCommand, str } from '../command.js';
import { withContext } from '../errors.js';

export const nodeinfo = defineCommand({
  name: 'nodeinfo',
  group: 'host',
  summary: 'node information',
  description: 'Returns basic information about the node.',
  options: [],
  async run(ctx) {
    const n = await withContext('failed to get node information', async () => (await ctx.connection()).nodeGetInfo());
    const line = (label: string, value: string): string => `${label.padEnd(20)} ${value}\n`;
    ctx.out(
      line('CPU model:', n.model) +
        line('CPU(s):', String(n.cpus)) +
        line('CPU frequency:', `${n.mhz} MHz`) +
        line('CPU socket(s):', String(n.sockets)) +
        line('Core(s) per socket:', String(n.cores)) +
        line('Thread(s) per core:', String(n.threads)) +
        line('NUMA cell(s):', String(n.nodes)) +
        line('Memory size:', `${n.memory} KiB`),
    );
  },
});

export const capabilities = defineCommand({
  name: 'capabilities',
  group: 'host',
  summary: 'capabilities',
  description: 'Returns capabilities of hypervisor/driver.',
  options: [],
  async run(ctx) {
    const xml = await withContext('failed to get capabilities', async () => (await ctx.connection()).getCapabilities());
    // virsh prints the document and a newline of its own.
    ctx.out(`${xml}\n`);
  },
});

export const domcapabilities = defineCommand({
  name: 'domcapabilities',
  group: 'host',
  summary: 'domain capabilities',
  description: 'Returns capabilities of emulator with respect to host and libvirt.',
  options: [
    { name: 'virttype', kind: 'string', help: 'virtualization type (/domain/@type)' },
    { name: 'emulatorbin', kind: 'string', help: 'path to emulator binary (/domain/devices/emulator)' },
    { name: 'arch', kind: 'string', help: 'domain architecture (/domain/os/type/@arch)' },
    { name: 'machine', kind: 'string', help: 'machine type (/domain/os/type/@machine)' },
  ],
  async run(ctx, args) {
    const conn = await ctx.connection();
    const xml = await withContext('failed to get emulator capabilities', () =>
      conn.getDomainCapabilities(str(args, 'emulatorbin'), str(args, 'arch'), str(args, 'machine'), str(args, 'virttype'), 0),
    );
    ctx.out(xml.endsWith('\n') ? xml : `${xml}\n`);
  },
});
