/**
 * The remote protocol with QEMU on both sides, on the booted test guest (TCG):
 *
 * 1. a real libvirtd's QEMU driver (Debian's libvirt 9.0, privileged, in a private mount namespace
 *    with its own config and state): a virsh session hot-plugs and unplugs a NIC and a SCSI disk, then
 *    virtkit's remote driver does the same through the public API, its typed results (alias, removed)
 *    derived from the live XML around libvirt's void replies;
 * 2. virtkitd serving virtkit's QEMU driver: the same virsh session, whose output must equal what virsh
 *    printed against libvirtd (paths and domain ids aside).
 *
 * The guest's serial console confirms every plug and unplug; device-removed events arrive in both.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Connection, DeviceModify } from '../../src/index.js';
import { qemuRoot } from '../qemu/driver-helpers.js';
import { qemuMissing, SerialLog, testGuest } from '../qemu/helpers.js';
import { ensureLibvirtQemuUsers, missingPeers, run, startInProcess, startLibvirtdQemu, type Step, unavailable, VIRSH, virshSteps } from './helpers.js';

const NIC_MAC = '52:54:00:4a:00:02';
const DISK_SECTORS = 49152;

/** One run of the scripted virsh session on a daemon; `dir` holds the files and the guest's serial log. */
async function virshSession(uri: string, dir: string, img: string): Promise<{ steps: Step[]; events: string[] }> {
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const guest = testGuest();
  // A NIC at boot: the guest reports changes against what it saw at boot.
  const dom = file(
    'vkr.xml',
    `<domain type='qemu'>
  <name>vkr</name>
  <memory unit='MiB'>192</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type><kernel>${guest.kernel}</kernel><initrd>${guest.initrd}</initrd><cmdline>console=ttyS0 quiet panic=-1</cmdline></os>
  <features><acpi/></features>
  <devices>
    <controller type='scsi' model='virtio-scsi'/>
    <interface type='user'><mac address='52:54:00:4a:00:01'/><model type='virtio'/></interface>
    <serial type='file'><source path='${join(dir, 'vkr.serial')}'/></serial>
    <memballoon model='none'/>
  </devices>
</domain>
`,
  );
  const nic = file('nic.xml', `<interface type='user'><mac address='${NIC_MAC}'/><model type='virtio'/></interface>\n`);
  const disk = file('disk.xml', `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img}'/><target dev='sdb' bus='scsi'/></disk>\n`);
  // Each wait reads the whole log: the guest may report the disk before the NIC.
  const sees = (re: RegExp, ms = 120_000) => new SerialLog(join(dir, 'vkr.serial')).waitFor(re, ms);
  const steps = await virshSteps(uri, [`define ${dom}`, 'start vkr', 'list --all', 'domstate vkr --reason']);
  await sees(/VIRTKIT_GUEST_READY/, 300_000);
  steps.push(...(await virshSteps(uri, [`attach-device vkr ${nic} --live`, `attach-device vkr ${disk} --live`, 'domiflist vkr', 'domblklist vkr'])));
  await sees(new RegExp(`VIRTKIT_GUEST \\+ net \\w+ ${NIC_MAC}`));
  await sees(new RegExp(`VIRTKIT_GUEST \\+ blk sd\\w+ ${DISK_SECTORS}`));
  const listening = run(VIRSH, ['-c', uri, 'event --event device-removed --loop --timeout 30'], '', 120_000, { ...process.env, LC_ALL: 'C' });
  await new Promise((r) => setTimeout(r, 2000));
  steps.push(...(await virshSteps(uri, [`detach-device vkr ${nic} --live`, `detach-device vkr ${disk} --live`])));
  await sees(new RegExp(`VIRTKIT_GUEST - net \\w+ ${NIC_MAC}`));
  await sees(new RegExp(`VIRTKIT_GUEST - blk sd\\w+ ${DISK_SECTORS}`));
  steps.push(...(await virshSteps(uri, ['domiflist vkr', 'domblklist vkr', 'domstate vkr'])));
  const events = (await listening).stdout.split('\n').filter((l) => l.startsWith("event '"));
  return { steps, events: events.sort() };
}

function checkSession(s: { steps: Step[]; events: string[] }, dir: string, img: string): void {
  const out = s.steps.map((x) => x.out);
  assert.deepEqual(s.steps.map((x) => x.err), new Array(s.steps.length).fill(''), JSON.stringify(s.steps));
  assert.equal(out[0], `Domain 'vkr' defined from ${join(dir, 'vkr.xml')}`);
  assert.equal(out[1], "Domain 'vkr' started");
  assert.match(out[2]!, /^ \d+ +vkr +running$/m);
  assert.equal(out[3], 'running (booted)');
  assert.deepEqual([out[4], out[5]], ['Device attached successfully', 'Device attached successfully']);
  assert.match(out[6]!, new RegExp(`^ - +user +- +virtio +${NIC_MAC}$`, 'm'));
  assert.match(out[7]!, new RegExp(`^ sdb +${img.replace(/\./g, '\\.')}$`, 'm'));
  assert.match(out[8]!, /^Device detach(ed| request sent) successfully$/);
  assert.match(out[9]!, /^Device detach(ed| request sent) successfully$/);
  assert.doesNotMatch(out[10]!, new RegExp(NIC_MAC));
  assert.doesNotMatch(out[11]!, /sdb/);
  assert.equal(out[12], 'running');
  assert.equal(s.events.length, 2);
  assert.match(s.events[0]!, /^event 'device-removed' for domain 'vkr': net1$/);
  assert.match(s.events[1]!, /^event 'device-removed' for domain 'vkr': scsi0-0-0-\d+$/);
}

/** What both daemons must print alike: paths (and the table rules their length sets), domain ids and unplug timing normalised. */
function normalise(s: { steps: Step[]; events: string[] }, dir: string): string[] {
  return [
    ...s.steps.map((x) =>
      `${x.cmd}\n${x.out}\n${x.err}`
        .replaceAll(dir, 'DIR')
        .replace(/^ \d+( +vkr)/gm, ' N$1')
        .replace(/^-{3,}$/gm, '---')
        .replace(/Device detach(ed| request sent) successfully/, 'Device detach... successfully'),
    ),
    ...s.events,
  ];
}

let libvirtdSession: string[] | undefined;

const noLibvirtd = missingPeers(['virsh', 'libvirtd']) ?? qemuMissing() ?? ensureLibvirtQemuUsers();

if (noLibvirtd) {
  unavailable("virsh and virtkit's remote driver against libvirtd's QEMU driver", noLibvirtd);
} else {
  test("libvirtd's QEMU driver: a virsh session, then virtkit's remote driver, on the booted test guest", { timeout: 900_000 }, async () => {
    const lv = await startLibvirtdQemu();
    const dir = lv.dir;
    const uri = `qemu+unix:///system?socket=${lv.socket}`;
    let conn: Connection | undefined;
    try {
      const img = join(dir, 'data.qcow2');
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', img, `${(DISK_SECTORS * 512) / 1024 / 1024}M`]);
      const session = await virshSession(uri, dir, img);
      checkSession(session, dir, img);
      libvirtdSession = normalise(session, dir);

      // virtkit's remote driver on the same guest.
      conn = await Connection.open(uri);
      assert.equal(conn.getType(), 'QEMU');
      const events = conn.events({ types: ['device-removed'] });
      await events.ready;
      const dom = await conn.lookupByName('vkr');
      const sees = (re: RegExp) => new SerialLog(join(dir, 'vkr.serial')).waitFor(re, 120_000);
      const disk = `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${img}'/><target dev='sdc' bus='scsi'/></disk>`;
      const attached = await dom.attachDeviceFlags(disk, DeviceModify.LIVE);
      assert.match(attached.alias ?? '', /^scsi0-0-0-\d+$/);
      await sees(new RegExp(`VIRTKIT_GUEST \\+ blk sd\\w+ ${DISK_SECTORS}`));
      assert.deepEqual(await dom.detachDeviceFlags(disk, DeviceModify.LIVE), { outcome: 'removed', alias: attached.alias });
      // A NIC without MAC or alias: libvirt picks both; the driver reports the alias it wrote back.
      const nic = await dom.attachDevice(`<interface type='user'><model type='virtio'/></interface>`);
      assert.match(nic.alias ?? '', /^net\d+$/);
      const element = (await dom.getXMLDesc()).split('<interface').find((chunk) => chunk.includes(`<alias name='${nic.alias}'/>`)) ?? '';
      const mac = /<mac address='([0-9a-f:]+)'\/>/.exec(element)?.[1];
      assert.ok(mac, 'the attached NIC is in the live XML with its MAC');
      await sees(new RegExp(`VIRTKIT_GUEST \\+ net \\w+ ${mac}`));
      const gone = await dom.detachDeviceFlags(`<interface type='user'><mac address='${mac}'/><model type='virtio'/></interface>`, DeviceModify.LIVE);
      assert.equal(gone.alias, nic.alias);
      assert.ok(gone.outcome === 'removed' || gone.outcome === 'pending');
      const aliases: string[] = [];
      while (aliases.length < 2) {
        const { value } = await events.next();
        if (value?.type === 'device-removed') aliases.push(value.alias);
      }
      assert.deepEqual(aliases, [attached.alias, nic.alias]);
      await sees(new RegExp(`VIRTKIT_GUEST - net \\w+ ${mac}`));
      assert.doesNotMatch(await dom.getXMLDesc(), new RegExp(mac));
      await events.return?.();
      await dom.destroy();
      await dom.undefine();
    } finally {
      // libvirt's QEMU processes outlive libvirtd: never leave the guest behind.
      await conn?.close().catch(() => undefined);
      const c = await Connection.open(uri).catch(() => undefined);
      for (const d of (await c?.listAllDomains(1).catch(() => [])) ?? []) await d.destroy().catch(() => undefined);
      await c?.close();
      await lv.stop();
    }
  });
}

const noQemu = missingPeers(['virsh']) ?? qemuMissing();
if (noQemu) {
  unavailable('virsh against virtkitd (QEMU driver)', noQemu);
} else {
  test('virtkitd serving the QEMU driver: the same virsh session prints what it printed against libvirtd', { timeout: 900_000 }, async () => {
    const root = qemuRoot('vkq-remote-');
    const d = await startInProcess({ drivers: { defaultUri: 'qemu:///session', qemuRoot: root.dir, unplugTimeoutMs: 20_000 } });
    try {
      const uri = `qemu+unix:///session?socket=${d.socket}`;
      const img = root.img('data.qcow2', `${(DISK_SECTORS * 512) / 1024 / 1024}M`);
      const session = await virshSession(uri, root.dir, img);
      checkSession(session, root.dir, img);
      const ours = normalise(session, root.dir);
      if (libvirtdSession) assert.deepEqual(ours, libvirtdSession);
      else if (process.env['CI']) assert.fail('the libvirtd session did not run, so nothing was compared');
      const s = await virshSteps(uri, ['destroy vkr', 'undefine vkr']);
      assert.deepEqual(s.map((x) => x.out), ["Domain 'vkr' destroyed", "Domain 'vkr' has been undefined"]);
    } finally {
      await d.stop();
      await root.cleanup();
    }
  });
}
