/** `attach-interface` and `detach-interface`: virsh's shorthand, with the XML built and matched by the library. */
import { buildInterfaceMatchXml, buildInterfaceXml } from '../../api/device-builders.js';
import { DeviceModify, DomainXML } from '../../api/flags.js';
import { ErrorCode, ErrorDomain, VirtError } from '../../errors.js';
import { type Args, defineCommand, flag, type OptionDef, str } from '../command.js';
import { withContext } from '../errors.js';
import { deviceImpact, IMPACT_EXCLUSIVE, impactOptions } from '../impact.js';
import { contractOptionDefs, contractOptions, detachXml, reportOutcome } from '../detach-contract.js';
import { pendingNote } from '../pending.js';
import type { DetachOutcome } from '../../shared/hotplug-contract.js';
import { domainOption, printXmlOption } from './options.js';

const s = (name: string, help: string): OptionDef => ({ name, kind: 'string', help });

/** The interface types virsh's attach-interface builds. */
const VIRSH_TYPES = new Set(['network', 'bridge', 'direct', 'hostdev', 'vhostuser']);

function noSupport(what: string, command: string): VirtError {
  return new VirtError(ErrorCode.NO_SUPPORT, `No support for ${what} in command '${command}'`, { domain: ErrorDomain.NONE });
}

/** The interface XML, checked the way virsh checks the options (same order, same words). */
function interfaceXml(args: Args): string {
  const type = str(args, 'type')!;
  const mode = str(args, 'source-mode');
  if (!VIRSH_TYPES.has(type)) throw noSupport(type, 'attach-interface');
  if (mode !== undefined && mode !== 'server' && mode !== 'client') {
    throw new VirtError(ErrorCode.INVALID_ARG, `Invalid source mode: ${mode}`, { domain: ErrorDomain.NONE });
  }
  return buildInterfaceXml({
    type,
    source: str(args, 'source'),
    target: str(args, 'target'),
    mac: str(args, 'mac'),
    script: str(args, 'script'),
    model: str(args, 'model'),
    alias: str(args, 'alias'),
    inbound: str(args, 'inbound'),
    outbound: str(args, 'outbound'),
    managed: flag(args, 'managed'),
    // virsh reads --source-mode for vhostuser sockets only.
    sourceMode: type === 'vhostuser' ? mode : undefined,
  });
}

export const attachInterface = defineCommand({
  name: 'attach-interface',
  group: 'domain',
  summary: 'attach network interface',
  description: 'Attach new network interface.',
  options: [
    domainOption(),
    { name: 'type', kind: 'string', required: true, help: 'network interface type' },
    { name: 'source', kind: 'string', required: true, help: 'source of network interface' },
    s('target', 'target network name'),
    s('mac', 'MAC address'),
    s('script', 'script used to bridge network interface'),
    s('model', 'model type'),
    s('alias', 'custom alias name of interface device'),
    s('inbound', "control domain's incoming traffics"),
    s('outbound', "control domain's outgoing traffics"),
    ...impactOptions(),
    printXmlOption('attach the interface'),
    { name: 'managed', kind: 'bool', help: 'libvirt will automatically detach/attach the device from/to host' },
    s('source-mode', 'mode attribute of <source/> element'),
  ],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx, args) {
    const xml = interfaceXml(args);
    if (flag(args, 'print-xml')) {
      ctx.out(xml);
      return;
    }
    const dom = await ctx.domain(str(args, 'domain')!);
    const { flags, flagless } = await deviceImpact(args, dom);
    await withContext('Failed to attach interface', () => (flagless ? dom.attachDevice(xml) : dom.attachDeviceFlags(xml, flags)));
    ctx.info('Interface attached successfully\n');
  },
});

export const detachInterface = defineCommand({
  name: 'detach-interface',
  group: 'domain',
  summary: 'detach network interface',
  description: 'Detach network interface.',
  options: [
    domainOption(),
    { name: 'type', kind: 'string', required: true, help: 'network interface type' },
    s('mac', 'MAC address'),
    ...impactOptions(),
    printXmlOption('detach the interface'),
    ...contractOptionDefs(),
  ],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx, args) {
    const contract = contractOptions(args);
    const dom = await ctx.domain(str(args, 'domain')!);
    const { flags, flagless } = await deviceImpact(args, dom);
    // virsh matches against the persistent definition for a config-only change, the live one otherwise.
    let xml: string;
    try {
      xml = await withContext(
        'Failed to detach interface',
        async () =>
          buildInterfaceMatchXml(await dom.getXMLDesc(flags === DeviceModify.CONFIG ? DomainXML.INACTIVE : 0), str(args, 'type')!, str(args, 'mac')),
        true,
      );
    } catch (err) {
      if (!contract?.ifPresent) throw err;
      return reportOutcome(ctx, { status: 'removed', outcome: 'removed', absent: true }, '', contract);
    }
    if (flag(args, 'print-xml')) {
      ctx.out(xml);
      return;
    }
    const result = await withContext('Failed to detach interface', () => detachXml(dom, xml, flags, flagless, contract));
    if (contract) return withContext('Failed to detach interface', async () => reportOutcome(ctx, result as DetachOutcome, 'Interface detached successfully', contract));
    ctx.info('Interface detached successfully\n');
    if (result.outcome === 'pending') ctx.note(pendingNote(result.alias));
  },
});
