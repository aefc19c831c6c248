/** `dominfo`: virsh's key/value summary of a domain (or --json). */
import { defineCommand, flag, str } from '../command.js';
import { formatJson } from '../format/json.js';
import { formatKeyValue } from '../format/keyvalue.js';
import { stateName } from '../format/states.js';
import { domainOption, jsonOption } from './options.js';

export const dominfo = defineCommand({
  name: 'dominfo',
  group: 'monitor',
  summary: 'domain information',
  description: 'Returns basic information about the domain.',
  options: [domainOption(), jsonOption],
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const [id, info, persistent, osType, autostart, managedSave] = await Promise.all([
      dom.getID(),
      dom.getInfo(),
      dom.isPersistent(),
      dom.getOSType(),
      dom.getAutostart(),
      dom.hasManagedSaveImage(),
    ]);
    if (flag(args, 'json')) {
      ctx.out(
        formatJson({
          id: id >= 0 ? id : null,
          name: dom.name,
          uuid: dom.uuid,
          osType,
          state: stateName(info.state),
          cpus: info.nrVirtCpu,
          cpuTimeNs: info.cpuTime,
          maxMemoryKiB: info.maxMem,
          usedMemoryKiB: info.memory,
          persistent,
          autostart,
          managedSave,
        }),
      );
      return;
    }
    const pairs: [string, string][] = [
      ['Id', id >= 0 ? String(id) : '-'],
      ['Name', dom.name],
      ['UUID', dom.uuid],
      ['OS Type', osType],
      ['State', stateName(info.state)],
      ['CPU(s)', String(info.nrVirtCpu)],
    ];
    // virsh leaves the line out when the hypervisor reports no CPU time.
    if (info.cpuTime !== 0) pairs.push(['CPU time', `${(info.cpuTime / 1e9).toFixed(1)}s`]);
    pairs.push(
      ['Max memory', `${info.maxMem} KiB`],
      ['Used memory', `${info.memory} KiB`],
      ['Persistent', persistent ? 'yes' : 'no'],
      ['Autostart', autostart ? 'enable' : 'disable'],
      ['Managed save', managedSave ? 'yes' : 'no'],
    );
    ctx.out(formatKeyValue(pairs));
  },
});
