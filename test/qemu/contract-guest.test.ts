/**
 * Issue 11's hot-plug contract on qemu:///session with one booted q35 test guest (TCG), checked from
 * inside the guest through its serial console and on the host: LIVE|CONFIG attach gives one MAC and
 * one PCI address in both definitions; four hot-plugged NICs keep their addresses across a guest
 * reboot and a restart (the new QEMU places each MAC where it was); an apply of a desired XML that
 * differs by one NIC and one disk is exactly two calls and no restart; isolate on a guest that cannot
 * answer (paused) cuts a NIC and a disk off from the host until the guest lets go, or QEMU exits.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Connection, DeviceModify, type Domain, type DomainEvent, DomainReboot, DomainXML, ErrorCode, isVirtError, xml } from '../../src/index.js';
import { guestDomain, qemuRoot, qemusOf, type QemuRoot } from './driver-helpers.js';
import { qemuTestOptions, SerialLog } from './helpers.js';

const opts = qemuTestOptions();
const isRoot = process.getuid?.() === 0;
const LC = DeviceModify.LIVE | DeviceModify.CONFIG;

interface Nic {
  mac: string;
  alias?: string;
  /** `bus:slot.function` of its PCI address. */
  pci: string;
}

function nicsOf(domainXml: string): Nic[] {
  const devices = xml.parseXml(domainXml).child('devices')?.elements('interface') ?? [];
  return devices.map((n) => {
    const a = n.child('address')!;
    return {
      mac: n.child('mac')!.attr('address')!,
      alias: n.child('alias')?.attr('name'),
      pci: `${Number(a.attr('bus'))}:${Number(a.attr('slot'))}.${Number(a.attr('function'))}`,
    };
  });
}

const pciOnly = (nics: Nic[]) => nics.map(({ mac, pci }) => ({ mac, pci }));

/** The `-device` options of the domain's QEMU (JSON form), from its command line. */
function qemuDevices(root: QemuRoot): Record<string, unknown>[] {
  const pids = qemusOf(root.dir);
  assert.equal(pids.length, 1, 'one QEMU runs');
  const argv = readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8').split('\0');
  const out: Record<string, unknown>[] = [];
  argv.forEach((a, i) => {
    if (a === '-device' && argv[i + 1]?.startsWith('{')) out.push(JSON.parse(argv[i + 1]!) as Record<string, unknown>);
  });
  return out;
}

/** Which guest interface (ethN) has which MAC, from the guest's `+ net` lines after `from` (in any order). */
async function guestNics(serial: SerialLog, from: number, macs: string[], timeoutMs = 240_000): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = serial.text().slice(from);
    const seen = new Map<string, string>();
    for (const mac of macs) {
      const m = new RegExp(`VIRTKIT_GUEST \\+ net (eth\\d+) ${mac}`).exec(text);
      if (m) seen.set(mac, m[1]!);
    }
    if (seen.size === macs.length) return seen;
    if (Date.now() > deadline) throw new Error(`the guest listed ${seen.size} of ${macs.length} NICs (log ${serial.text().length} chars, from ${from}); tail:\n${text.slice(-800)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the guest printed a line matching `re` after `from`. */
async function waitText(serial: SerialLog, from: number, re: RegExp, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(serial.text().slice(from))) {
    if (Date.now() > deadline) throw new Error(`the guest printed no ${re}; tail:\n${serial.text().slice(from).slice(-800)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('qemu:///session: the hot-plug contract on a booted q35 guest', opts, () => {
  let root: QemuRoot;
  let conn: Connection;
  let dom: Domain;
  let serial: SerialLog;
  const events: DomainEvent[] = [];
  const bridge = `vkcb${process.pid % 100000}`;
  let fourNics: Nic[] = [];

  before(async () => {
    root = qemuRoot('vkq-contract-', '&unplugTimeout=20000');
    if (isRoot) execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
    conn = await root.open();
    conn.on('device-removed', (e) => events.push(e));
    // q35 hot-plugs only into root ports the guest was started with: reserve enough.
    // The guest's device watch needs something listed at boot (an empty drive will do) to report the first plug.
    const cdrom = `<disk type='file' device='cdrom'><target dev='sda' bus='sata'/><readonly/></disk>`;
    dom = await conn.defineXML(guestDomain(root, 'c35', { machine: 'q35', devices: cdrom }), { hotplugSlots: 8 });
    await dom.create();
    serial = new SerialLog(join(root.dir, 'c35.serial'));
    await serial.waitFor(/VIRTKIT_GUEST_READY/, 180_000);
  });
  after(async () => {
    await root.cleanup();
    if (isRoot && existsSync(`/sys/class/net/${bridge}`)) execFileSync('ip', ['link', 'del', bridge]);
  });

  test('LIVE|CONFIG attach of four NICs: the same MAC and PCI address in both definitions; the guest sees each', async () => {
    const from = serial.text().length;
    for (let i = 0; i < 4; i++) await dom.attachDeviceFlags(`<interface type='user'><model type='virtio'/></interface>`, LC);
    fourNics = nicsOf(await dom.getXMLDesc());
    assert.equal(fourNics.length, 4);
    assert.equal(new Set(fourNics.map((n) => n.mac)).size, 4);
    assert.equal(new Set(fourNics.map((n) => n.pci)).size, 4, 'four slots');
    assert.deepEqual(pciOnly(nicsOf(await dom.getXMLDesc(DomainXML.INACTIVE))), pciOnly(fourNics), 'one identity in both definitions');
    await guestNics(serial, from, fourNics.map((n) => n.mac));
  });

  test('the four NICs keep their PCI addresses across a guest reboot and a restart (new QEMU, same slots)', async () => {
    assert.equal(fourNics.length, 4, 'needs the previous test');
    const macs = fourNics.map((n) => n.mac);
    // A reset is what QEMU's driver does; libvirt's graceful modes are refused, not faked.
    await assert.rejects(dom.reboot(DomainReboot.ACPI_POWER_BTN), (err: unknown) => isVirtError(err) && err.code === ErrorCode.ARGUMENT_UNSUPPORTED);
    let from = serial.text().length;
    await dom.reboot();
    // Booted again: the guest names its NICs in PCI order, so the same names mean the same slots.
    const ethOf = await guestNics(serial, from, macs);
    assert.ok(/VIRTKIT_GUEST_START/.test(serial.text().slice(from)), 'the guest booted again');
    assert.deepEqual(pciOnly(nicsOf(await dom.getXMLDesc())), pciOnly(fourNics));

    await dom.destroy();
    await dom.create();
    // The new QEMU started the serial log afresh.
    from = 0;
    assert.deepEqual(await guestNics(serial, from, macs), ethOf, 'the guest enumerates them as after the reboot');
    assert.deepEqual(pciOnly(nicsOf(await dom.getXMLDesc())), pciOnly(fourNics), 'the live XML has the same addresses');
    // The new QEMU process puts each MAC on the root port (pci.N) and slot the definition names.
    const devices = qemuDevices(root);
    for (const n of fourNics) {
      const d = devices.find((x) => x.mac === n.mac);
      assert.ok(d, `QEMU has a device with MAC ${n.mac}`);
      const [bus, slot] = n.pci.split(/[:.]/);
      assert.equal(d.bus, `pci.${bus}`, `${n.mac} on its bus`);
      assert.equal(Number(d.addr), Number(slot), `${n.mac} in its slot`);
    }
    // Ready for the next hot-plug (the guest's ACPI up) before going on.
    await waitText(serial, from, /VIRTKIT_GUEST_READY/);
    serial.mark();
  });

  test('apply: a desired XML with one NIC and one disk more is exactly two LIVE|CONFIG attaches, no restart, seen in the guest', async () => {
    const current = await dom.getXMLDesc(DomainXML.INACTIVE);
    assert.deepEqual((await dom.planDevices(current)).operations, [], 'the dumped definition is what runs');
    const mac = '52:54:00:ac:00:01';
    const image = root.img('apply.qcow2', '19M');
    const desired = current.replace(
      '</devices>',
      `<interface type='user'><mac address='${mac}'/><model type='virtio'/></interface>
       <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${image}'/><target dev='vdb' bus='virtio'/></disk></devices>`,
    );
    const plan = await dom.planDevices(desired);
    assert.deepEqual(plan.operations.map((o) => [o.action, o.device, o.flags]), [['attach', 'disk', LC], ['attach', 'interface', LC]]);
    assert.deepEqual(plan.needsRestart, []);
    const from = serial.text().length;
    const result = await dom.applyDevices(desired);
    assert.equal(result.ok, true, JSON.stringify(result.results));
    assert.deepEqual(result.results.map((r) => r.status), ['done', 'done']);
    await guestNics(serial, from, [mac]);
    await waitText(serial, from, /VIRTKIT_GUEST \+ blk \w+ 38912/);
    assert.deepEqual((await dom.planDevices(desired)).operations, [], 'nothing left to do');
    // Back to the definition as it was: two detaches, both removed by the guest.
    serial.mark();
    const back = await dom.applyDevices(current, { waitMs: 180_000 });
    assert.deepEqual(back.results.map((r) => `${r.operation.action} ${r.operation.device} ${r.status}`), ['detach disk removed', 'detach interface removed']);
    await serial.waitFor(new RegExp(`VIRTKIT_GUEST - net eth\\d+ ${mac}`), 180_000);
  });

  test('isolate on a guest that cannot answer (paused): link down and tap off its bridge, disk image closed; the guest lets go after resume', { skip: isRoot ? undefined : 'needs root (taps)' }, async () => {
    const mac = '52:54:00:ac:00:02';
    const image = root.img('isolate.qcow2', '17M');
    serial.mark();
    await dom.attachDeviceFlags(`<interface type='bridge'><mac address='${mac}'/><source bridge='${bridge}'/><model type='virtio'/></interface>`, DeviceModify.LIVE);
    await serial.waitFor(new RegExp(`VIRTKIT_GUEST \\+ net eth\\d+ ${mac} up`), 180_000);
    serial.mark();
    await dom.attachDeviceFlags(`<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${image}'/><target dev='vdc' bus='virtio'/></disk>`, DeviceModify.LIVE);
    await serial.waitFor(/VIRTKIT_GUEST \+ blk \w+ 34816/, 180_000);
    const nic = xml.parseXml(await dom.getXMLDesc()).child('devices')!.elements('interface').find((n) => n.child('mac')?.attr('address') === mac)!;
    const tap = nic.child('target')!.attr('dev')!;
    assert.ok(existsSync(`/sys/class/net/${tap}/master`), 'the tap is on the bridge');
    const pid = qemusOf(root.dir)[0]!;
    const opens = () => readdirSync(`/proc/${pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === image;
      } catch {
        return false;
      }
    }).length;
    assert.ok(opens() > 0, 'QEMU has the image open');

    await dom.suspend();
    const n = await dom.detachDeviceFlags(`<interface type='bridge'><mac address='${mac}'/></interface>`, DeviceModify.LIVE, { waitMs: 0, isolate: true });
    const d = await dom.detachDeviceFlags(`<disk type='file' device='disk'><target dev='vdc'/></disk>`, DeviceModify.LIVE, { waitMs: 0, isolate: true });
    for (const r of [n, d]) {
      assert.equal(r.status, 'pending');
      assert.equal(r.reason, 'paused');
      assert.equal(r.state, 'pending-until-shutdown');
    }
    assert.ok(!existsSync(`/sys/class/net/${tap}/master`), 'the tap left the bridge');
    assert.ok(existsSync(`/sys/class/net/${tap}`), 'the tap stays until the guest lets go of the NIC');
    assert.equal(opens(), 0, 'QEMU no longer has the image open');
    assert.match(await dom.getXMLDesc(), new RegExp(`<mac address='${mac}'/>[\\s\\S]*?<link state='down'/>`));
    assert.deepEqual((await dom.pendingDevices()).map((p) => [p.alias, p.state]).sort(), [[n.alias, 'pending-until-shutdown'], [d.alias, 'pending-until-shutdown']].sort());

    // The guest runs again and takes the requests: both leave, with their request ids; the tap goes.
    await dom.resume();
    const deadline = Date.now() + 180_000;
    const gone = () => [n, d].every((r) => events.some((e) => e.type === 'device-removed' && (e as { alias: string; requestId?: string }).alias === r.alias && (e as { requestId?: string }).requestId === r.requestId));
    while (!gone() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.ok(gone(), 'device-removed for both, with the detach request ids');
    assert.ok(!existsSync(`/sys/class/net/${tap}`), 'the tap was removed');
    assert.deepEqual(await dom.pendingDevices(), []);
  });

  test('an isolated NIC the guest never lets go is finalized when QEMU exits: device-removed with its request id, tap gone', { skip: isRoot ? undefined : 'needs root (taps)' }, async () => {
    const mac = '52:54:00:ac:00:03';
    const from = serial.text().length;
    const { alias } = await dom.attachDeviceFlags(`<interface type='bridge'><mac address='${mac}'/><source bridge='${bridge}'/><model type='virtio'/></interface>`, DeviceModify.LIVE);
    await guestNics(serial, from, [mac]);
    const tap = xml.parseXml(await dom.getXMLDesc()).child('devices')!.elements('interface').find((x) => x.child('alias')?.attr('name') === alias)!.child('target')!.attr('dev')!;
    await dom.suspend();
    const r = await dom.detachDeviceAlias(alias!, DeviceModify.LIVE, { waitMs: 0, isolate: true });
    assert.equal(r.state, 'pending-until-shutdown');
    assert.ok(!existsSync(`/sys/class/net/${tap}/master`), 'the tap left the bridge');
    // The guest never answers: the domain stops with the NIC still in it.
    await dom.destroy();
    assert.ok(events.some((e) => e.type === 'device-removed' && (e as { alias: string }).alias === alias && (e as { requestId?: string }).requestId === r.requestId));
    assert.ok(!existsSync(`/sys/class/net/${tap}`), 'the tap went with QEMU');
    assert.equal(qemusOf(root.dir).length, 0);
  });
});
