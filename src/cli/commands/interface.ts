/** `attach-interface` and `detach-interface`: virsh's shorthand, with the XML built and matched by the library. */
import { buildInterfaceMatchXml, buildInterfaceXml } from '../../api/device-builders.js';
import { DeviceModify, DomainXML } from '../../api/flags.js';
import { defineCommand, flag, type OptionDef, str } from '../command.js';
import { withContext } from '../errors.js';
import { deviceImpact, IMPACT_EXCLUSIVE, impactOptions } from '../impact.js';
import { domainOption, printXmlOption } from './options.js';

const s = (name: string, help: string): OptionDef => ({ name, kind: 'string', help });

export const attachInterface = defineCommand({
  name: 'attach-interface',
  group: 'domain',
  summary: 'attach network interface',
  description: 'Attach new network interface.',
  options: [
    domainOption(),
    { name: 'type', kind: 'string', required: true, help: 'network interface type (network, bridge, direct, hostdev, vhostuser, ethernet, user)' },
    // Required in virsh; optional here because ethernet and user interfaces have no source.
    { name: 'source', kind: 'string', help: 'source of network interface' },
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
    const xml = buildInterfaceXml({
      type: str(args, 'type')!,
      source: str(args, 'source'),
      target: str(args, 'target'),
      mac: str(args, 'mac'),
      script: str(args, 'script'),
      model: str(args, 'model'),
      alias: str(args, 'alias'),
      inbound: str(args, 'inbound'),
      outbound: str(args, 'outbound'),
      managed: flag(args, 'managed'),
      sourceMode: str(args, 'source-mode'),
    });
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
  ],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx, args) {
    const dom = await ctx.domain(str(args, 'domain')!);
    const { flags, flagless } = await deviceImpact(args, dom);
    // virsh matches against the persistent definition for a config-only change, the live one otherwise.
    const domainXml = await dom.getXMLDesc(flags === DeviceModify.CONFIG ? DomainXML.INACTIVE : 0);
    const xml = buildInterfaceMatchXml(domainXml, str(args, 'type')!, str(args, 'mac'));
    if (flag(args, 'print-xml')) {
      ctx.out(xml);
      return;
    }
    const result = await withContext('Failed to detach interface', () =>
      flagless ? dom.detachDevice(xml) : dom.detachDeviceFlags(xml, flags),
    );
    ctx.info(result.outcome === 'pending' ? 'Interface detach request sent successfully\n' : 'Interface detached successfully\n');
  },
});
