/**
 * libvirt's own hot-plug cases (tests/qemuhotplugtest.c of libvirt 9.0.0) as an oracle for the
 * live names and addresses of the test driver, which follows the QEMU driver for qemu/kvm domains.
 *
 * For every x86 DO_TEST_ATTACH(base, dev, fail, keep, ...) whose three files exist:
 *  1. createXML(qemuhotplug-<base>.xml) on a fresh test:///default. Our inactive parse drops
 *     libvirt's aliases and starting the domain assigns them again, so every alias of libvirt's
 *     base file must come back the same (start-time naming).
 *  2. Replay the attaches libvirt kept on the same domain before this case (its `keep` chain).
 *  3. attachDeviceFlags(qemuhotplug-<dev>.xml, LIVE); every device libvirt's expected result
 *     (qemuhotplug-<base>+<dev>.xml) gained must be in our live XML with the same alias, address
 *     (type and attributes, compared as numbers) and target, and ours must gain nothing else
 *     (so a controller libvirt plugged for the device must be ours too, same index/model/alias).
 *  4. Detach the device with its XML cut from our live dump: the device set is the one before
 *     the attach again (controllers plugged for it stay, as in libvirt).
 * QEMU's private live state is not compared: blockdev `<source index>`, `<backingStore/>`,
 * seclabels, `<domain id>`, generated socket paths.
 *
 * Every x86 DO_TEST_DETACH and DO_TEST_UPDATE runs too, with libvirt's own device file, and a case
 * libvirt expects to fail must fail as libvirt does (FAILURES: its code and message, or for a
 * detach whose DEVICE_DELETED never comes, a call that succeeds with the device still there).
 * Passing cases must pass: an update succeeds, a detach removes the device and leaves the devices
 * of libvirt's base file.
 * Run: node --import tsx --test test/conformance/hotplug.test.ts
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Connection } from '../../src/api/connection.js';
import { DeviceModify, DomainXML } from '../../src/api/flags.js';
import type { Domain } from '../../src/api/domain.js';
import { ErrorCode, VirtError } from '../../src/errors.js';
import { parseXml, serializeXml, type XmlElement } from '../../src/xml/index.js';
import { setupCorpus, unavailable } from './corpus.js';

const SUITE = 'hot-plug cases of qemuhotplugtest.c';

/** One DO_TEST_* line of qemuhotplugtest.c. */
interface HotplugCase {
  action: 'ATTACH' | 'DETACH' | 'UPDATE';
  base: string;
  dev: string;
  fail: boolean;
  keep: boolean;
  /** Earlier cases libvirt ran on the same domain object (their `keep` was true). */
  chain: HotplugCase[];
}

const label = (c: HotplugCase): string => `${c.base} + ${c.dev}`;

/**
 * Cases that cannot apply to the test driver, by device file, each with its reason. Keep this
 * short: architecture exclusions are derived from the base file, not listed here.
 */
const EXCLUDED: Record<string, string> = {};

/**
 * Aliases of libvirt's hand-written base files that libvirt's own start-time naming
 * (qemuAssignDeviceAliases) would not produce: the hot-plug test parses the base as live XML
 * and keeps whatever aliases it holds. Ours must be what qemu_alias.c gives instead.
 */
function handWrittenAlias(dev: XmlElement, alias: string): { reason: string; libvirtWouldGive: string | undefined } | undefined {
  if (dev.name === 'controller' && dev.attr('type') === 'pci' && dev.attr('model') === 'pci-root' && alias === 'pci') {
    return { reason: "x86 has PCI multibus, so qemuAssignDeviceControllerAlias names pci-root 'pci.0'", libvirtWouldGive: 'pci.0' };
  }
  if (dev.name === 'memballoon' && dev.attr('model') === 'none' && alias === 'balloon0') {
    return { reason: "qemuAssignDeviceAliases gives <memballoon model='none'> no alias", libvirtWouldGive: undefined };
  }
  return undefined;
}

/**
 * libvirt's hot-plug test runs a QEMU with QEMU_CAPS_VIRTIO_SCSI but not QEMU_CAPS_SCSI_LSI
 * (qemuHotplugCreateObjects), so qemuDomainDefaultSCSIControllerModel makes the SCSI controllers it
 * plugs virtio-scsi. Every x86 QEMU has LSI and virtkit models one (its define-time default is
 * lsilogic, as in qemuxml2xmloutdata): with it libvirt plugs lsilogic controllers, and names a disk on
 * one `scsi<controller>-<bus>-<unit>` (qemuAssignDeviceDiskAlias leaves the target out). Rewrites
 * libvirt's expectation for the devices `keys` to that, returning what it changed.
 */
function withLsiCapability(want: Map<string, XmlElement>, keys: string[]): string[] {
  const changed: string[] = [];
  const plugged = new Set<string>();
  for (const k of keys) {
    const c = want.get(k)!;
    if (c.name !== 'controller' || c.attr('type') !== 'scsi' || c.attr('model') !== 'virtio-scsi') continue;
    want.set(k, c.clone().setAttr('model', 'lsilogic'));
    plugged.add(c.attr('index') ?? '0');
    changed.push(`${k} model virtio-scsi -> lsilogic`);
  }
  for (const k of keys) {
    const d = want.get(k)!;
    const a = d.child('address');
    if (d.name !== 'disk' || d.child('target')?.attr('bus') !== 'scsi' || a?.attr('type') !== 'drive') continue;
    if (!plugged.has(String(Number(a.attr('controller') ?? 0)))) continue;
    const copy = d.clone();
    const alias = `scsi${Number(a.attr('controller') ?? 0)}-${Number(a.attr('bus') ?? 0)}-${Number(a.attr('unit') ?? 0)}`;
    copy.child('alias')?.setAttr('name', alias);
    want.set(k, copy);
    changed.push(`${k} alias ${aliasOf(d)} -> ${alias}`);
  }
  return changed;
}

/** The DO_TEST_ATTACH/DETACH/UPDATE calls of qemuhotplugtest.c, in order, with their keep chains. */
function parseCases(source: string): HotplugCase[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/.*$/gm, '');
  const re = /\bDO_TEST_(ATTACH|DETACH|UPDATE)\s*\(\s*"([^"]+)"\s*,\s*"([^"]+)"\s*,\s*(true|false)\s*,\s*(true|false)\s*[,)]/g;
  const cases: HotplugCase[] = [];
  let kept: HotplugCase[] = [];
  for (const m of code.matchAll(re)) {
    const c: HotplugCase = {
      action: m[1] as HotplugCase['action'],
      base: m[2]!,
      dev: m[3]!,
      fail: m[4] === 'true',
      keep: m[5] === 'true',
      chain: kept,
    };
    cases.push(c);
    // testQemuHotplug reuses the domain object of the previous case while `keep` was set.
    kept = c.keep ? [...kept, c] : [];
  }
  return cases;
}

const num = (v: string): number | undefined => (/^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : undefined);

/** Attribute maps equal, numbers compared by value (0x02 == 2); undefined when equal, else the difference. */
function attrDiff(want: XmlElement, ours: XmlElement): string | undefined {
  const names = new Set([...want.attrs.map(([k]) => k), ...ours.attrs.map(([k]) => k)]);
  for (const k of names) {
    const a = want.attr(k);
    const b = ours.attr(k);
    if (a === b) continue;
    if (a !== undefined && b !== undefined) {
      const x = num(a);
      if (x !== undefined && x === num(b)) continue;
    }
    return `${k}: libvirt ${a === undefined ? 'none' : `'${a}'`}, ours ${b === undefined ? 'none' : `'${b}'`}`;
  }
  return undefined;
}

/** `<address domain='0x0000' bus='0x06' .../>` as a comparable string. */
function addrText(a: XmlElement | undefined): string {
  if (!a) return '';
  return a.attrs
    .map(([k, v]) => `${k}=${num(v) ?? v}`)
    .sort()
    .join(',');
}

/** What identifies a device across libvirt's XML and ours (aliases and addresses are what we compare, so not those). */
function identity(d: XmlElement): string {
  const t = d.child('target');
  switch (d.name) {
    case 'disk':
      return `disk[${t?.attr('dev')}]`;
    case 'controller':
      return `controller[${d.attr('type')} ${d.attr('index') ?? 0}]`;
    case 'interface':
      return `interface[${d.child('mac')?.attr('address')}]`;
    case 'hostdev':
      return `hostdev[${d.attr('type')} ${addrText(d.child('source')?.child('address'))}]`;
    case 'shmem':
      return `shmem[${d.attr('name')}]`;
    case 'serial':
    case 'parallel':
    case 'console':
    case 'channel':
      return `${d.name}[${t?.attr('type')} ${t?.attr('port') ?? t?.attr('name') ?? ''}]`;
    case 'input':
      return `input[${d.attr('type')} ${d.attr('bus')}]`;
    case 'watchdog':
    case 'memballoon':
    case 'sound':
    case 'rng':
      return `${d.name}[${d.attr('model')}]`;
    default:
      return d.name;
  }
}

/** The devices of a domain by identity; repeated identities get `#2`, `#3`, ... in document order. */
function devicesOf(domain: XmlElement): Map<string, XmlElement> {
  const out = new Map<string, XmlElement>();
  for (const d of domain.child('devices')?.elements() ?? []) {
    // <audio> is a sound backend, not a guest device (no alias, no address). libvirt's parse adds
    // <audio type='none'> to a base file lacking one, so it shows up in results as if attached.
    if (d.name === 'emulator' || d.name === 'audio') continue;
    const id = identity(d);
    let key = id;
    for (let n = 2; out.has(key); n++) key = `${id}#${n}`;
    out.set(key, d);
  }
  return out;
}

const aliasOf = (d: XmlElement): string | undefined => d.child('alias')?.attr('name');

/** Alias, address and target of libvirt's device against ours; the first difference, or undefined. */
function compareDevice(key: string, want: XmlElement, ours: XmlElement): string | undefined {
  if (aliasOf(want) !== aliasOf(ours)) return `${key} alias: libvirt ${aliasOf(want) ?? 'none'}, ours ${aliasOf(ours) ?? 'none'}`;
  const wa = want.child('address');
  const oa = ours.child('address');
  if (!wa !== !oa) return `${key} address: libvirt ${wa ? `<${addrText(wa)}>` : 'none'}, ours ${oa ? `<${addrText(oa)}>` : 'none'}`;
  if (wa && oa) {
    const d = attrDiff(wa, oa);
    if (d) return `${key} address ${d}`;
  }
  const wt = want.child('target');
  const ot = ours.child('target');
  if (wt) {
    if (!ot) return `${key} target: ours has none`;
    const d = attrDiff(wt, ot);
    if (d) return `${key} target ${d}`;
  }
  if (key.startsWith('controller[')) {
    const d = want.attr('model') !== ours.attr('model');
    if (d) return `${key} model: libvirt ${want.attr('model') ?? 'none'}, ours ${ours.attr('model') ?? 'none'}`;
  }
  return undefined;
}

function message(err: unknown): string {
  const code = err instanceof VirtError ? `${err.codeName}: ` : '';
  return code + (err instanceof Error ? err.message : String(err)).split('\n')[0];
}

async function liveDevices(dom: Domain): Promise<Map<string, XmlElement>> {
  return devicesOf(parseXml(await dom.getXMLDesc()));
}

interface Row {
  name: string;
  start: string;
  attach: string;
  detach: string;
  difference: string;
  /** Explained departures from libvirt's files (hand-written aliases, test capabilities), reported but not failures. */
  notes: string[];
}

/** Runs one attach case; fills the row, never throws. */
async function runCase(c: HotplugCase, files: { domains: string; devices: string }): Promise<Row> {
  const row: Row = { name: label(c), start: '-', attach: '-', detach: '-', difference: '', notes: [] };
  const fileOf = (base: string) => join(files.domains, `qemuhotplug-${base}.xml`);
  const baseXml = readFileSync(fileOf(c.base), 'utf8');
  const conn = await Connection.open('test:///default');
  const fail = (stage: 'start' | 'attach' | 'detach', why: string): Row => {
    row[stage] = 'no';
    row.difference ||= why;
    return row;
  };
  try {
    let dom: Domain;
    try {
      dom = await conn.createXML(baseXml);
    } catch (err) {
      return fail('start', `createXML: ${message(err)}`);
    }

    // 1. Start-time names.
    const ours0 = await liveDevices(dom);
    const base = devicesOf(parseXml(baseXml));
    let startOk = true;
    for (const [key, want] of base) {
      const alias = aliasOf(want);
      if (alias === undefined) continue;
      const mine = ours0.get(key);
      if (!mine) {
        startOk = false;
        fail('start', `${key}: not in our live XML`);
        continue;
      }
      if (aliasOf(mine) === alias) continue;
      const hand = handWrittenAlias(want, alias);
      if (hand && aliasOf(mine) === hand.libvirtWouldGive) {
        row.notes.push(`${key}: base file says '${alias}', ours '${aliasOf(mine) ?? 'none'}' (${hand.reason})`);
        continue;
      }
      startOk = false;
      fail('start', `${key} alias at start: libvirt ${alias}, ours ${aliasOf(mine) ?? 'none'}`);
    }
    if (startOk) row.start = 'yes';

    // 2. What libvirt did to the same domain object before this case.
    let wantBefore = base;
    for (const prior of c.chain) {
      if (prior.action === 'DETACH' && prior.fail) continue; // the unplug never completed: nothing changed
      if (prior.action !== 'ATTACH' || prior.fail) return fail('attach', `replaying ${prior.action} ${prior.dev} is not supported`);
      try {
        await dom.attachDeviceFlags(readFileSync(join(files.devices, `qemuhotplug-${prior.dev}.xml`), 'utf8'), DeviceModify.LIVE);
      } catch (err) {
        return fail('attach', `earlier attach of ${prior.dev}: ${message(err)}`);
      }
      wantBefore = devicesOf(parseXml(readFileSync(fileOf(`${prior.base}+${prior.dev}`), 'utf8')));
    }
    const oursBefore = await liveDevices(dom);

    // 3. The attach itself.
    const devXml = readFileSync(join(files.devices, `qemuhotplug-${c.dev}.xml`), 'utf8');
    try {
      await dom.attachDeviceFlags(devXml, DeviceModify.LIVE);
      if (c.fail) return fail('attach', 'attach succeeded where libvirt fails');
    } catch (err) {
      // A failing attach must fail as libvirt does (none in libvirt 9.0's list; FAILURES would say how).
      const want = FAILURES[`${c.base} ${c.dev}`];
      if (c.fail && want && 'error' in want && err instanceof VirtError && err.code === want.error.code && err.message === want.error.message) {
        row.attach = 'yes (fails)';
        return row;
      }
      return fail('attach', `attach: ${message(err)}${c.fail ? ' (libvirt fails too, but FAILURES lists no such error)' : ''}`);
    }
    const want = devicesOf(parseXml(readFileSync(fileOf(`${c.base}+${c.dev}`), 'utf8')));
    const oursAfter = await liveDevices(dom);
    const wantNew = [...want.keys()].filter((k) => !wantBefore.has(k));
    const oursNew = [...oursAfter.keys()].filter((k) => !oursBefore.has(k));
    if (wantNew.length === 0) return fail('attach', "libvirt's result has no new device to compare");
    const lacks = wantNew.filter((k) => !oursNew.includes(k));
    const adds = oursNew.filter((k) => !wantNew.includes(k));
    if (lacks.length || adds.length) {
      return fail('attach', `new devices: ${lacks.length ? `ours lacks ${lacks.join(', ')}` : ''}${lacks.length && adds.length ? '; ' : ''}${adds.length ? `ours adds ${adds.join(', ')}` : ''}`);
    }
    const lsi = withLsiCapability(want, wantNew);
    if (lsi.length) row.notes.push(`QEMU with LSI (libvirt's test QEMU has none): ${lsi.join('; ')}`);
    for (const k of wantNew) {
      const d = compareDevice(k, want.get(k)!, oursAfter.get(k)!);
      if (d) return fail('attach', d);
    }
    row.attach = 'yes';

    // 4. Detach what we attached (controllers plugged for it stay, as in libvirt).
    const attachedKey = identity(parseXml(devXml));
    const attached = oursAfter.get(attachedKey);
    if (!attached) return fail('detach', `cannot find ${attachedKey} in our live XML`);
    try {
      const r = await dom.detachDeviceFlags(serializeXml(attached), DeviceModify.LIVE);
      if (r.outcome !== 'removed') return fail('detach', `detach: outcome ${r.outcome}`);
    } catch (err) {
      return fail('detach', `detach: ${message(err)}`);
    }
    const oursEnd = await liveDevices(dom);
    const expected = [...oursBefore.keys(), ...wantNew.filter((k) => k !== attachedKey)].sort();
    const got = [...oursEnd.keys()].sort();
    if (expected.join('|') !== got.join('|')) {
      const missing = expected.filter((k) => !got.includes(k));
      const extra = got.filter((k) => !expected.includes(k));
      return fail('detach', `after detach: missing ${missing.join(', ') || 'nothing'}, extra ${extra.join(', ') || 'nothing'}`);
    }
    for (const [k, before] of oursBefore) {
      if (aliasOf(before) !== aliasOf(oursEnd.get(k)!)) return fail('detach', `${k} alias changed to ${aliasOf(oursEnd.get(k)!)}`);
    }
    row.detach = 'yes';
    return row;
  } finally {
    await conn.close();
  }
}

/**
 * What libvirt answers in the failing ATTACH and UPDATE cases, by `base dev`. `error`: the code and message
 * libvirt's driver gives. `success`: libvirt's test harness fails the case for a reason of its own,
 * the real API succeeds, and virtkit must too (without changing the domain).
 */
const FAILURES: Record<string, { error: { code: number; message: string } } | { success: string }> = {
  'graphics-spice graphics-spice-listen': {
    // qemuDomainChangeGraphics: a running display keeps its listen addresses.
    error: { code: ErrorCode.OPERATION_UNSUPPORTED, message: "Operation not supported: cannot change listen address setting on 'spice' graphics" },
  },
  'disk-cdrom disk-cdrom-nochange': {
    success:
      "testQemuHotplugUpdate updates graphics only (it fails any other device with its own \"device type 'disk' cannot be updated\"); libvirt's qemuDomainChangeDiskLive accepts a CD-ROM update with the media it has, changing nothing",
  },
};

const NEVER_ANSWERS = "<vkt:unplug xmlns:vkt='urn:virtkit:test' ack='never'/>";

/** libvirt's base domain with a guest that never answers an unplug (the test monitor sends no DEVICE_DELETED). */
function silentGuest(domainXml: string): string {
  if (domainXml.includes('<metadata>')) return domainXml.replace('<metadata>', `<metadata>${NEVER_ANSWERS}`);
  return domainXml.replace(/<\/name>/, `</name>\n  <metadata>${NEVER_ANSWERS}</metadata>`);
}

/** Runs one DO_TEST_DETACH / DO_TEST_UPDATE case on a fresh domain; `difference` is empty when virtkit answers as libvirt. */
async function runOtherCase(c: HotplugCase, files: { domains: string; devices: string }): Promise<{ got: string; difference: string }> {
  const fileOf = (base: string) => join(files.domains, `qemuhotplug-${base}.xml`);
  const devXml = readFileSync(join(files.devices, `qemuhotplug-${c.dev}.xml`), 'utf8');
  // The domain libvirt's case ran on: the first base of its keep chain, then the attaches kept on it.
  let domainXml = readFileSync(fileOf((c.chain[0] ?? c).base), 'utf8');
  const pendingDetach = c.action === 'DETACH' && c.fail;
  if (pendingDetach) domainXml = silentGuest(domainXml);
  const conn = await Connection.open('test:///default', { unplugTimeoutMs: pendingDetach ? 20 : 5000 });
  try {
    const dom = await conn.createXML(domainXml);
    for (const prior of c.chain) {
      const xml = readFileSync(join(files.devices, `qemuhotplug-${prior.dev}.xml`), 'utf8');
      if (prior.action === 'ATTACH') await dom.attachDeviceFlags(xml, DeviceModify.LIVE);
      // An earlier detach libvirt expected to fail left its device; one that passed removed it.
      else if (prior.action === 'DETACH' && !prior.fail) await dom.detachDeviceFlags(xml, DeviceModify.LIVE);
    }
    const before = await dom.getXMLDesc(DomainXML.SECURE);
    if (c.action === 'UPDATE') {
      const want = FAILURES[`${c.base} ${c.dev}`];
      try {
        await dom.updateDeviceFlags(devXml, DeviceModify.LIVE);
      } catch (err) {
        const got = message(err);
        if (want && 'error' in want && err instanceof VirtError && err.code === want.error.code && err.message === want.error.message) return { got: `fails: ${got}`, difference: '' };
        return { got: `fails: ${got}`, difference: want && 'error' in want ? `libvirt: ${want.error.message} (code ${want.error.code})` : 'libvirt succeeds' };
      }
      if (want && 'error' in want) return { got: 'succeeds', difference: `libvirt fails: ${want.error.message} (code ${want.error.code})` };
      if (c.fail && (await dom.getXMLDesc(DomainXML.SECURE)) !== before) return { got: 'succeeds', difference: 'the domain changed' };
      return { got: c.fail ? `succeeds, nothing changed (${(want as { success: string }).success})` : 'succeeds', difference: '' };
    }
    const target = identity(parseXml(devXml));
    let outcome: string;
    try {
      outcome = (await dom.detachDeviceFlags(devXml, DeviceModify.LIVE)).outcome;
    } catch (err) {
      return { got: `fails: ${message(err)}`, difference: pendingDetach ? 'libvirt: the call succeeds, the device stays' : 'libvirt: removed' };
    }
    const live = await liveDevices(dom);
    if (pendingDetach) {
      const pending = (await dom.pendingDevices()).map((p) => p.alias);
      const ok = outcome === 'pending' && live.has(target) && pending.length === 1;
      return { got: `${outcome}, device ${live.has(target) ? 'still there' : 'gone'}, pending ${pending.join(',') || 'none'}`, difference: ok ? '' : 'libvirt: success with the device still there' };
    }
    // libvirt compares the domain with its base file for this case: every device of it, nothing more.
    const want = [...devicesOf(parseXml(readFileSync(fileOf(c.base), 'utf8'))).keys()].sort();
    const got = [...live.keys()].sort();
    const missing = want.filter((k) => !got.includes(k));
    const extra = got.filter((k) => !want.includes(k));
    const difference = outcome !== 'removed' ? `outcome ${outcome}` : missing.length || extra.length ? `devices: missing ${missing.join(', ') || 'nothing'}, extra ${extra.join(', ') || 'nothing'}` : '';
    return { got: `${outcome}`, difference };
  } catch (err) {
    return { got: `setup failed: ${message(err)}`, difference: 'could not run the case' };
  } finally {
    await conn.close();
  }
}

function printTable(rows: Row[]): void {
  const head = ['case', 'start aliases ok', 'attach ok', 'detach ok', 'first difference'];
  const cells = rows.map((r) => [r.name, r.start, r.attach, r.detach, r.difference]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i < 4 ? x.padEnd(width[i]!) : x)).join(' | ')}`;
  console.log(line(head));
  console.log(line(width.map((w, i) => '-'.repeat(i < 4 ? w : head[i]!.length))));
  for (const c of cells) console.log(line(c));
}

const corpus = setupCorpus();
if (typeof corpus === 'string') {
  unavailable(SUITE, corpus);
} else {
  test(`${SUITE}: names and addresses of live attach/detach match libvirt's`, async () => {
    const files = { domains: join(corpus.tests, 'qemuhotplugtestdomains'), devices: join(corpus.tests, 'qemuhotplugtestdevices') };
    const cases = parseCases(readFileSync(join(corpus.tests, 'qemuhotplugtest.c'), 'utf8'));
    const attaches = cases.filter((c) => c.action === 'ATTACH');
    assert.ok(attaches.length >= 20, `only ${attaches.length} DO_TEST_ATTACH cases parsed from qemuhotplugtest.c`);

    const exclusions: string[] = [];
    const rows: Row[] = [];
    for (const c of attaches) {
      const needed = [
        join(files.domains, `qemuhotplug-${c.base}.xml`),
        join(files.devices, `qemuhotplug-${c.dev}.xml`),
        join(files.domains, `qemuhotplug-${c.base}+${c.dev}.xml`),
      ];
      const missing = needed.filter((f) => !existsSync(f));
      if (missing.length) {
        exclusions.push(`${label(c)}: missing ${missing.map((f) => f.slice(corpus.tests.length + 1)).join(', ')}`);
        continue;
      }
      const arch = parseXml(readFileSync(needed[0]!, 'utf8')).find('os', 'type');
      if (arch?.attr('arch') !== 'x86_64' && arch?.attr('arch') !== 'i686') {
        exclusions.push(`${label(c)}: ${arch?.attr('arch')} '${arch?.attr('machine')}' guest; virtkit addresses x86 (pc/q35) only (no CCW/pseries address sets)`);
        continue;
      }
      const reason = EXCLUDED[c.dev];
      if (reason) {
        exclusions.push(`${label(c)}: ${reason}`);
        continue;
      }
      rows.push(await runCase(c, files));
    }

    console.log(`\n${SUITE}: ${cases.length} cases, ${attaches.length} attach cases, ${rows.length} run, ${exclusions.length} excluded`);
    printTable(rows);
    const notes = new Map<string, string[]>();
    for (const r of rows) for (const n of r.notes) notes.set(n, [...(notes.get(n) ?? []), r.name]);
    if (notes.size) {
      console.log('Explained departures from the files (not failures):');
      for (const [n, names] of notes) console.log(`  ${n}\n      in ${names.length === rows.length ? 'every case' : names.join(', ')}`);
    }
    console.log(`Excluded (${exclusions.length}):`);
    for (const e of exclusions) console.log(`  ${e}`);
    const failed = rows.filter((r) => r.difference !== '');
    assert.equal(failed.length, 0, `${failed.length} of ${rows.length} hot-plug cases differ from libvirt:\n${failed.map((r) => `  ${r.name}: ${r.difference}`).join('\n')}`);
  });

  test(`${SUITE}: detach and update cases, failures checked for libvirt's failure`, async () => {
    const files = { domains: join(corpus.tests, 'qemuhotplugtestdomains'), devices: join(corpus.tests, 'qemuhotplugtestdevices') };
    const cases = parseCases(readFileSync(join(corpus.tests, 'qemuhotplugtest.c'), 'utf8')).filter((c) => c.action !== 'ATTACH');
    const results: { c: HotplugCase; got: string; difference: string }[] = [];
    const skipped: string[] = [];
    for (const c of cases) {
      const base = join(files.domains, `qemuhotplug-${c.base}.xml`);
      const firstBase = join(files.domains, `qemuhotplug-${(c.chain[0] ?? c).base}.xml`);
      if (![base, firstBase, join(files.devices, `qemuhotplug-${c.dev}.xml`)].every(existsSync)) {
        skipped.push(`${c.action} ${label(c)}: files missing`);
        continue;
      }
      const arch = parseXml(readFileSync(firstBase, 'utf8')).find('os', 'type')?.attr('arch');
      if (arch !== 'x86_64' && arch !== 'i686') {
        skipped.push(`${c.action} ${label(c)}: ${arch} guest (virtkit addresses x86 only)`);
        continue;
      }
      results.push({ c, ...(await runOtherCase(c, files)) });
    }
    console.log(`\n${SUITE}: ${results.length} detach/update cases run (${results.filter((r) => r.c.fail).length} expected to fail), ${skipped.length} skipped`);
    for (const r of results) console.log(`  ${r.c.action} ${label(r.c)}${r.c.fail ? ' (libvirt: fails)' : ''}: ${r.got}${r.difference ? `  <-- ${r.difference}` : ''}`);
    for (const s of skipped) console.log(`  skipped ${s}`);
    const expectedToFail = cases.filter((c) => c.fail && results.some((r) => r.c === c));
    assert.ok(expectedToFail.length >= 9, `only ${expectedToFail.length} failing detach/update cases ran`);
    const unlisted = expectedToFail.filter((c) => c.action === 'UPDATE' && !FAILURES[`${c.base} ${c.dev}`]);
    assert.deepEqual(unlisted.map(label), [], 'failing UPDATE cases without libvirt\'s expected error in FAILURES');
    const failed = results.filter((r) => r.difference);
    assert.equal(failed.length, 0, `${failed.length} detach/update cases differ from libvirt:\n${failed.map((r) => `  ${r.c.action} ${label(r.c)}: ${r.difference}`).join('\n')}`);
  });
}
