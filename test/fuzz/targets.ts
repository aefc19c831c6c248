/**
 * Fuzz targets: every public entry point that takes XML or untrusted values. A target builds its
 * inputs (a fast-check arbitrary) and calls the entry point on a fixture; the harness checks the
 * property around it. To add one (e.g. the RPC decoder), push a FuzzTarget onto `targets` from a
 * module imported by test/fuzz/all-targets.ts: `name`, `input`, `call`, and `snapshot` when the
 * call can change state.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { readXmlFile } from '../../src/cli/read-input.js';
import {
  buildDiskXml,
  buildInterfaceXml,
  Connection,
  conf,
  type Domain,
  DomainDefine,
  DomainStart,
  DomainXML,
  listDisks,
  listInterfaces,
  xml,
} from '../../src/index.js';
import { anyValue, flagsValue, hostileValue, loadSeeds, xmlFrom } from './inputs.js';

/** The fixture a call runs against: a connection with a shut-off and a running domain. */
export interface Fixture {
  conn: Connection;
  off: Domain;
  on: Domain;
}

export interface FuzzTarget<T = unknown> {
  name: string;
  input: fc.Arbitrary<T>;
  /** Runs the entry point; resolves (any value) or throws. */
  call(input: T, fx: Fixture): Promise<unknown>;
  /** Whether the call may change the fixture (then the harness compares dumps on error and renews it on success). */
  stateful: boolean;
  /**
   * For entry points below the API whose documented failure is not a VirtError (the RPC decoders'
   * FrameError and XdrError): names such an error, undefined for anything else.
   */
  protocolError?(err: unknown): string | undefined;
}

const FIXTURE_DOMAIN = (name: string) => `<domain type='qemu'><name>${name}</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='/i/${name}.img'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><source file='/i/cd.iso'/><target dev='sda' bus='sata'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/><model type='virtio'/></interface>
    <interface type='user'><mac address='52:54:00:00:00:02'/><alias name='ua-user'/></interface>
  </devices>
</domain>`;

let warmed = false;

export async function openFixture(): Promise<Fixture> {
  const conn = await Connection.open('test:///default?unplugTimeout=20');
  if (!warmed) {
    // libvirt's RelaxNG grammars are compiled on first use (seconds); that one-time cost is not a call's.
    warmed = true;
    await (await conn.defineXMLFlags(FIXTURE_DOMAIN('fz-warm'), DomainDefine.VALIDATE)).undefine();
    await Connection.open('test:///default').then((c) => c.createXML(FIXTURE_DOMAIN('fz-warm2'), DomainStart.VALIDATE).then(() => c.close()));
    await conn.lookupByName('test').then((d) => d.attachDeviceFlags("<interface type='user'/>", 1)).catch(() => undefined);
  }
  const off = await conn.defineXML(FIXTURE_DOMAIN('fz-off'));
  const on = await conn.defineXML(FIXTURE_DOMAIN('fz-on'));
  await on.create();
  return { conn, off, on };
}

/** Everything observable about the fixture's domains. */
export async function snapshot(fx: Fixture): Promise<string> {
  const out: string[] = [];
  for (const d of await fx.conn.listAllDomains()) {
    out.push(`${d.name} ${await d.isActive()}`, await d.getXMLDesc());
    if (await d.isPersistent()) out.push(await d.getXMLDesc(DomainXML.INACTIVE));
  }
  return out.sort().join('\n');
}

const domains = (): string[] => loadSeeds().domains;
const devices = (): string[] => loadSeeds().devices;
/** XML sometimes handed over as bytes (with a chance of bad UTF-8 from byte mutations). */
const maybeBytes = (x: fc.Arbitrary<string>): fc.Arbitrary<string | Uint8Array> =>
  fc.tuple(x, fc.nat(9)).map(([s, k]) => (k === 0 ? Buffer.from(s, 'latin1') : k === 1 ? Buffer.from(s) : s));
const domainXmlIn = maybeBytes(xmlFrom(domains));
const deviceXmlIn = maybeBytes(xmlFrom(devices));
const target = fc.boolean();
const dom = (fx: Fixture, running: boolean): Domain => (running ? fx.on : fx.off);
/** Sizes and counts near the bounds the calls check (KiB of memory, vCPUs, sources). */
const sizeValue: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 2, 3, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53),
  fc.nat({ max: 1 << 22 }),
);
/** Detach options: each key of any value (and a misspelt one), a valid waitMs kept under 50 ms. */
const detachOptions: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    waitMs: fc.oneof(fc.nat(50), anyValue.filter((v) => !(typeof v === 'number' && Number.isInteger(v) && v > 50))),
    resend: fc.oneof(fc.boolean(), anyValue),
    ifPresent: fc.oneof(fc.boolean(), anyValue),
    isolate: fc.oneof(fc.boolean(), anyValue),
    ifBusy: fc.oneof(fc.constantFrom('hold', 'fail'), anyValue),
    wait: fc.nat(50),
  },
  { requiredKeys: [] },
);

export const targets: FuzzTarget[] = [
  {
    name: 'define',
    stateful: true,
    input: fc.tuple(domainXmlIn, flagsValue),
    call: ([x, f], fx) => fx.conn.defineXMLFlags(x, f as number),
  } as FuzzTarget<[string, unknown]>,
  {
    name: 'create',
    stateful: true,
    input: fc.tuple(domainXmlIn, flagsValue),
    call: ([x, f], fx) => fx.conn.createXML(x, f as number),
  } as FuzzTarget<[string, unknown]>,
  {
    name: 'attach',
    stateful: true,
    input: fc.tuple(deviceXmlIn, flagsValue, target),
    call: ([x, f, r], fx) => dom(fx, r).attachDeviceFlags(x, f as number),
  } as FuzzTarget<[string, unknown, boolean]>,
  {
    name: 'detach',
    stateful: true,
    input: fc.tuple(deviceXmlIn, flagsValue, target),
    call: ([x, f, r], fx) => dom(fx, r).detachDeviceFlags(x, f as number),
  } as FuzzTarget<[string, unknown, boolean]>,
  {
    name: 'update',
    stateful: true,
    input: fc.tuple(deviceXmlIn, flagsValue, target),
    call: ([x, f, r], fx) => dom(fx, r).updateDeviceFlags(x, f as number),
  } as FuzzTarget<[string, unknown, boolean]>,
  {
    name: 'detachDeviceAlias',
    stateful: true,
    input: fc.tuple(fc.oneof(anyValue, fc.constantFrom('net0', 'net1', 'virtio-disk0', 'sata0-0-0', 'ua-user', 'usb', 'pci.0')), flagsValue, target),
    call: ([a, f, r], fx) => dom(fx, r).detachDeviceAlias(a as string, f as number),
  } as FuzzTarget<[unknown, unknown, boolean]>,
  {
    name: 'lookups',
    stateful: false,
    input: fc.tuple(fc.nat(3), fc.oneof(anyValue, fc.constantFrom('fz-on', 'fz-off', '1', '2'))),
    call: ([k, v], fx) =>
      k === 0 ? fx.conn.lookupByName(v as string) : k === 1 ? fx.conn.lookupByUUID(v as string) : k === 2 ? fx.conn.lookupByID(v as number) : fx.conn.lookup(v as string),
  } as FuzzTarget<[number, unknown]>,
  {
    name: 'flags',
    stateful: true,
    input: fc.tuple(fc.nat(7), anyValue),
    call: ([k, f], fx) => {
      const fl = f as number;
      switch (k) {
        case 0:
          return fx.conn.listAllDomains(fl);
        case 1:
          return fx.on.getXMLDesc(fl);
        case 2:
          return fx.off.createWithFlags(fl);
        case 3:
          return fx.on.destroyFlags(fl);
        case 4:
          return fx.on.shutdownFlags(fl);
        case 5:
          return fx.off.undefineFlags(fl);
        case 6:
          return fx.off.hasManagedSaveImage(fl);
        default:
          return fx.conn.events(f as never).return!();
      }
    },
  } as FuzzTarget<[number, unknown]>,
  {
    // The settings and information calls: sizes, counts, sources, names and flags of any value.
    name: 'settings',
    stateful: true,
    input: fc.tuple(fc.nat(15), fc.oneof(anyValue, sizeValue), flagsValue, target),
    call: async ([k, v, f, r], fx) => {
      const d = dom(fx, r);
      const n = v as number;
      const fl = f as number;
      const s = v as string;
      switch (k) {
        case 0:
          return d.reboot(fl);
        case 1:
          return d.setAutostart(v as boolean);
        case 2:
          return d.setMemory(n);
        case 3:
          return d.setMaxMemory(n);
        case 4:
          return d.setMemoryFlags(n, fl);
        case 5:
          return d.setVcpus(n);
        case 6:
          return d.setVcpusFlags(n, fl);
        case 7:
          return d.interfaceAddresses(n, fl);
        case 8:
          return d.getBlockInfo(s, fl);
        case 9: {
          const c = await d.openConsole(v === undefined ? undefined : s, fl);
          await c.close();
          return undefined;
        }
        case 10:
          return fx.conn.getDomainCapabilities(s, undefined, undefined, undefined, fl);
        case 11:
          return fx.conn.listAllVolumes(s, fl);
        case 12:
          return fx.conn.listAllNetworks(fl);
        case 13:
          return fx.conn.listAllStoragePools(fl);
        case 14:
          return d.isolateDevice(s);
        default:
          return d.persistDevice(s);
      }
    },
  } as FuzzTarget<[number, unknown, unknown, boolean]>,
  {
    // The hot-plug contract's detach options (waits kept short: a valid waitMs waits that long).
    name: 'contract',
    stateful: true,
    input: fc.tuple(fc.nat(3), deviceXmlIn, fc.oneof(anyValue, detachOptions), flagsValue, target),
    call: async ([k, x, o, f, r], fx) => {
      const d = dom(fx, r);
      switch (k) {
        case 0:
          return d.detachDeviceFlags(x, f as number, o as never);
        case 1:
          return d.detachDevice(x, o as never);
        case 2:
          return d.detachDeviceAlias(typeof o === 'string' ? o : 'net0', f as number, o as never);
        default:
          return d.pendingDevices();
      }
    },
  } as FuzzTarget<[number, string | Uint8Array, unknown, unknown, boolean]>,
  {
    // Declarative devices: a mutated domain as the desired definition, named as the fixture's (without another
    // uuid) half the time so the device comparison runs; apply waits at most 50 ms per detach.
    name: 'declarative',
    stateful: true,
    input: fc.tuple(fc.boolean(), fc.boolean(), domainXmlIn, fc.oneof(anyValue, fc.record({ waitMs: fc.nat(50) }, { requiredKeys: [] })), target),
    call: ([apply, rename, x, o, r], fx) => {
      const d = dom(fx, r);
      const desired = rename && typeof x === 'string' ? x.replace(/<name>[^<]*<\/name>/, `<name>${d.name}</name>`).replace(/<uuid>[^<]*<\/uuid>/, '') : x;
      return apply ? d.applyDevices(desired, o as never) : d.planDevices(desired);
    },
  } as FuzzTarget<[boolean, boolean, string | Uint8Array, unknown, boolean]>,
  {
    name: 'open',
    stateful: false,
    input: fc.tuple(
      fc.oneof(anyValue, hostileValue.map((v) => `test:///default?${v}`), hostileValue.map((v) => `test:///default?unplugTimeout=${v}`), hostileValue.map((v) => `${v}:///x`)),
      fc.oneof(fc.constant(undefined), anyValue),
    ),
    call: async ([u, o]) => {
      // Only URIs that cannot touch the file system or the network: state folders and remote hosts are other tests' business.
      if (typeof u === 'string' && (/state=|\+|:\/\/[^/]/.test(u) || !u.startsWith('test:'))) return undefined;
      const c = await Connection.open(u as string, o as never);
      await c.close();
    },
  } as FuzzTarget<[unknown, unknown]>,
  {
    name: 'helpers',
    stateful: false,
    input: fc.tuple(fc.nat(7), xmlFrom(domains), anyValue, fc.dictionary(fc.constantFrom('source', 'target', 'targetBus', 'type', 'mode', 'address', 'mac', 'model', 'inbound', 'outbound', 'alias', 'iothread', 'sourceType', 'sourceMode', 'sourceProtocol', 'sourceHostName'), fc.oneof(anyValue, hostileValue))),
    call: async ([k, x, v, opts]) => {
      switch (k) {
        case 0:
          return xml.serializeXml(xml.parseXml(x));
        case 1:
          return conf.parseDomainXml(x).toXml();
        case 2:
          return listDisks(x);
        case 3:
          return listInterfaces(x);
        case 4:
          return buildDiskXml(opts as never);
        case 5:
          return buildInterfaceXml(opts as never);
        case 6:
          // Any value and unit: the helper checks their types itself.
          return conf.toKiB(v as string, opts['type'] as string | undefined, '<memory>');
        default:
          return xml.parseXml(v as string);
      }
    },
  } as FuzzTarget<[number, string, unknown, Record<string, unknown>]>,
  {
    name: 'cli-read',
    stateful: false,
    input: fc.oneof(fc.uint8Array({ maxLength: 300 }), xmlFrom(domains).map((s) => Buffer.from(s, 'latin1'))),
    call: async (bytes) => {
      writeFileSync(cliFile(), bytes);
      return readXmlFile(cliFile());
    },
  } as FuzzTarget<Uint8Array>,
];

let cliPath: string | undefined;
function cliFile(): string {
  cliPath ??= join(mkdtempSync(join(tmpdir(), 'virtkit-fuzz-')), 'input.xml');
  return cliPath;
}
