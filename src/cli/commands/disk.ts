/** `attach-disk` and `detach-disk`: virsh's shorthand, with the XML built and matched by the library. */
import { stat } from 'node:fs/promises';
import { buildAddressElement, buildDiskMatchXml, buildDiskXml, type DiskBuildOptions } from '../../api/device-builders.js';
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

function cliError(message: string, code: number = ErrorCode.INVALID_ARG): VirtError {
  return new VirtError(code, message, { domain: ErrorDomain.NONE });
}

/** Address kinds virsh allows for a target name prefix, and its message otherwise. */
const ADDRESS_KINDS: [string, string[], string][] = [
  ['vd', ['pci', 'ccw'], 'expecting a pci:0000.00.00.00 or ccw:00.0.0000 address.'],
  ['sd', ['scsi', 'usb', 'sata'], 'expecting a scsi:00.00.00 or usb:00.00 or sata:00.00.00 address.'],
  ['hd', ['ide'], 'expecting an ide:00.00.00 address.'],
];

/** virsh's checks of attach-disk's options, in its order and words, before the library builds the XML. */
function checkDiskOptions(args: Args): void {
  const sourceType = str(args, 'sourcetype');
  if (sourceType !== undefined && !['file', 'block', 'network'].includes(sourceType)) {
    throw cliError(`Unknown source type: '${sourceType}'`);
  }
  const mode = str(args, 'mode');
  if (mode !== undefined && mode !== 'readonly' && mode !== 'shareable') {
    throw cliError(`No support for ${mode} in command 'attach-disk'`, ErrorCode.NO_SUPPORT);
  }
  const protocol = str(args, 'source-protocol');
  if ((protocol !== undefined && sourceType !== undefined && sourceType !== 'network') || (sourceType === 'network' && protocol === undefined)) {
    throw cliError('--source-protocol option requires --sourcetype network');
  }
  const address = str(args, 'address');
  if (address === undefined) return;
  let kind: string;
  try {
    kind = buildAddressElement(address).attr('type') === 'pci' ? 'pci' : address.slice(0, address.indexOf(':'));
  } catch {
    throw cliError('Invalid address.');
  }
  const target = str(args, 'target')!;
  for (const [prefix, kinds, message] of ADDRESS_KINDS) {
    if (target.startsWith(prefix) && !kinds.includes(kind)) throw cliError(message);
  }
}

/** virsh falls back to a block disk when the source path is a block device on this host. */
async function sourceType(args: Args): Promise<string | undefined> {
  const given = str(args, 'sourcetype');
  const source = str(args, 'source');
  if (given || !source) return given;
  try {
    return (await stat(source)).isBlockDevice() ? 'block' : undefined;
  } catch {
    return undefined;
  }
}

async function diskOptions(args: Args): Promise<DiskBuildOptions> {
  return {
    source: str(args, 'source'),
    target: str(args, 'target')!,
    targetBus: str(args, 'targetbus'),
    driver: str(args, 'driver'),
    subdriver: str(args, 'subdriver'),
    iothread: str(args, 'iothread'),
    cache: str(args, 'cache'),
    io: str(args, 'io'),
    type: str(args, 'type'),
    mode: str(args, 'mode'),
    sourceType: await sourceType(args),
    serial: str(args, 'serial'),
    wwn: str(args, 'wwn'),
    alias: str(args, 'alias'),
    rawio: flag(args, 'rawio'),
    address: str(args, 'address'),
    multifunction: flag(args, 'multifunction'),
    sourceProtocol: str(args, 'source-protocol'),
    sourceHostName: str(args, 'source-host-name'),
    sourceHostTransport: str(args, 'source-host-transport'),
    sourceHostSocket: str(args, 'source-host-socket'),
  };
}

export const attachDisk = defineCommand({
  name: 'attach-disk',
  group: 'domain',
  summary: 'attach disk device',
  description: 'Attach new disk device.',
  options: [
    domainOption(),
    { name: 'source', kind: 'string', required: true, emptyOk: true, help: 'source of disk device or name of network disk' },
    { name: 'target', kind: 'string', required: true, help: 'target of disk device' },
    s('targetbus', 'target bus of disk device'),
    s('driver', 'driver of disk device'),
    s('subdriver', 'subdriver of disk device'),
    s('iothread', 'IOThread to be used by supported device'),
    s('cache', 'cache mode of disk device'),
    s('io', 'io policy of disk device'),
    s('type', 'target device type'),
    s('mode', 'mode of device reading and writing'),
    s('sourcetype', 'type of source (block|file|network)'),
    s('serial', 'serial of disk device'),
    s('wwn', 'wwn of disk device'),
    s('alias', 'custom alias name of disk device'),
    { name: 'rawio', kind: 'bool', help: 'needs rawio capability' },
    s('address', 'address of disk device'),
    { name: 'multifunction', kind: 'bool', help: 'use multifunction pci under specified address' },
    printXmlOption('attach the disk'),
    s('source-protocol', 'protocol used by disk device source'),
    s('source-host-name', 'host name for source of disk device'),
    s('source-host-transport', 'host transport for source of disk device'),
    s('source-host-socket', 'host socket for source of disk device'),
    ...impactOptions(),
  ],
  exclusive: IMPACT_EXCLUSIVE,
  requires: [
    ['source-host-name', 'source-protocol'],
    ['source-host-transport', 'source-protocol'],
    ['source-host-socket', 'source-protocol'],
  ],
  async run(ctx, args) {
    checkDiskOptions(args);
    const xml = buildDiskXml(await diskOptions(args));
    if (flag(args, 'print-xml')) {
      ctx.out(xml);
      return;
    }
    const dom = await ctx.domain(str(args, 'domain')!);
    const { flags, flagless } = await deviceImpact(args, dom);
    await withContext('Failed to attach disk', () => (flagless ? dom.attachDevice(xml) : dom.attachDeviceFlags(xml, flags)));
    ctx.info('Disk attached successfully\n');
  },
});

export const detachDisk = defineCommand({
  name: 'detach-disk',
  group: 'domain',
  summary: 'detach disk device',
  description: 'Detach disk device.',
  options: [
    domainOption(),
    { name: 'target', kind: 'string', required: true, help: 'target of disk device' },
    ...impactOptions(),
    printXmlOption('detach the disk'),
    ...contractOptionDefs(),
  ],
  exclusive: IMPACT_EXCLUSIVE,
  async run(ctx, args) {
    const contract = contractOptions(args);
    const dom = await ctx.domain(str(args, 'domain')!);
    const { flags, flagless } = await deviceImpact(args, dom);
    // virsh matches against the persistent definition for a config-only change, the live one otherwise.
    const domainXml = await dom.getXMLDesc(flags === DeviceModify.CONFIG ? DomainXML.INACTIVE : 0);
    let xml: string;
    try {
      xml = buildDiskMatchXml(domainXml, str(args, 'target')!);
    } catch (err) {
      if (!contract?.ifPresent) throw err;
      return reportOutcome(ctx, { status: 'removed', outcome: 'removed', absent: true }, '', contract);
    }
    if (flag(args, 'print-xml')) {
      ctx.out(xml);
      return;
    }
    const result = await withContext('Failed to detach disk', () => detachXml(dom, xml, flags, flagless, contract));
    if (contract) return withContext('Failed to detach disk', async () => reportOutcome(ctx, result as DetachOutcome, 'Disk detached successfully', contract));
    ctx.info('Disk detached successfully\n');
    if (result.outcome === 'pending') ctx.note(pendingNote(result.alias));
  },
});
