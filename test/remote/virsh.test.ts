/**
 * Real virsh (libvirt-clients 9.0) against virtkitd: a scripted session of every command virtkitd
 * serves, on the test driver, and the same commands against a private libvirtd's test driver where
 * both drivers support them, with the outputs compared line by line.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type InProcessDaemon,
  type Libvirtd,
  missingPeers,
  run,
  type Step,
  startInProcess,
  startLibvirtd,
  unavailable,
  VIRSH,
  virshSteps,
} from './helpers.js';

const UUID1 = '6f1a3c2e-9b7d-4e58-a1c0-2d3e4f5a6b7c';
const UUID2 = '7a2b4d3f-0c8e-4f69-b2d1-3e4f5a6b7c8d';
const domainXml = (name: string, uuid: string, mac: string): string => `<domain type='test'>
  <name>${name}</name>
  <uuid>${uuid}</uuid>
  <memory unit='MiB'>64</memory>
  <os><type>hvm</type></os>
  <devices>
    <interface type='network'><mac address='${mac}'/><source network='default'/></interface>
    <disk type='file' device='disk'><source file='/var/lib/images/${name}.img'/><target dev='vda' bus='virtio'/></disk>
  </devices>
</domain>
`;

function files(dir: string): Record<string, string> {
  const f = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  return {
    vm1: f('vm1.xml', domainXml('vm1', UUID1, '52:54:00:aa:00:01')),
    vm2: f('vm2.xml', domainXml('vm2', UUID2, '52:54:00:aa:00:02')),
    nic: f('nic.xml', `<interface type='network'><mac address='52:54:00:11:22:33'/><source network='default'/><model type='virtio'/></interface>\n`),
    nicDown: f('nic-down.xml', `<interface type='network'><mac address='52:54:00:11:22:33'/><source network='default'/><model type='virtio'/><link state='down'/></interface>\n`),
    disk: f('disk.xml', `<disk type='file' device='disk'><source file='/var/lib/images/data.qcow2'/><target dev='vdb' bus='virtio'/></disk>\n`),
    bad: f('bad.xml', `<interface type='network'><mac address='nonsense'/></interface>\n`),
  };
}

const step = (steps: Step[], cmd: string): Step => {
  const s = steps.find((x) => x.cmd === cmd);
  if (!s) throw new Error(`no step '${cmd}'`);
  return s;
};

const missing = missingPeers(['virsh']);
if (missing) {
  unavailable('virsh against virtkitd', missing);
} else {
  describe('virsh against virtkitd (test driver)', () => {
    let d: InProcessDaemon;
    let f: Record<string, string>;
    let uri: string;
    before(async () => {
      d = await startInProcess();
      f = files(d.dir);
      uri = `test+unix:///default?socket=${d.socket}`;
    });
    after(() => d.stop());

    test('connection-level commands: version, hostname, uri, capabilities, nodeinfo', async () => {
      const s = await virshSteps(uri, ['version --daemon', 'hostname', 'uri', 'capabilities', 'nodeinfo']);
      assert.match(step(s, 'version --daemon').out, /Using library: libvirt 9\.0\.0\nUsing API: Test 9\.0\.0\nRunning hypervisor: Test \d+\.\d+\.\d+\nRunning against daemon: 9\.0\.0/);
      assert.equal(step(s, 'hostname').out, os.hostname());
      assert.equal(step(s, 'uri').out, uri);
      assert.match(step(s, 'capabilities').out, /<capabilities>[\s\S]*<os_type>hvm<\/os_type>[\s\S]*<domain type='test'\/>[\s\S]*<\/capabilities>/);
      assert.match(step(s, 'nodeinfo').out, new RegExp(`CPU\\(s\\): +${os.cpus().length}\\n`));
      for (const x of s) assert.equal(x.err, '', x.cmd);
    });

    test('a scripted session of every domain command, flags included', async () => {
      const cmds = [
        `define ${f.vm1}`,
        'list --all',
        'dominfo vm1',
        'domstate vm1 --reason',
        'domid vm1',
        'domuuid vm1',
        `domname ${UUID1}`,
        'domname 1',
        'start vm1',
        'domstate vm1 --reason',
        'dumpxml vm1',
        'domiflist vm1',
        'domblklist vm1',
        'suspend vm1',
        'domstate vm1 --reason',
        'resume vm1',
        `attach-device vm1 ${f.nic} --live`,
        `attach-device vm1 ${f.disk} --persistent`,
        'domiflist --domain vm1',
        'domblklist vm1 --inactive',
        `update-device vm1 ${f.nicDown} --live`,
        `dumpxml vm1 --xpath "//interface[mac/@address='52:54:00:11:22:33']/link"`,
        `detach-device vm1 ${f.nic} --live`,
        `detach-device vm1 ${f.disk} --config`,
        'detach-device-alias vm1 virtio-disk1 --live',
        'detach-device-alias vm1 net0',
        'domiflist --domain=vm1',
        `attach-device vm1 ${f.bad} --live`,
        'attach-interface vm1 network default --model virtio --mac 52:54:00:44:55:66 --live',
        'detach-interface vm1 network --mac 52:54:00:44:55:66 --live',
        'shutdown vm1 --mode acpi',
        'domstate vm1 --reason',
        'start vm1 --paused',
        'domstate vm1 --reason',
        'destroy vm1 --graceful',
        'destroy vm1',
        `create ${f.vm2} --paused`,
        'list --all --table',
        'list --name --state-paused',
        'destroy vm2',
        'undefine vm1 --nvram',
        `define ${f.vm1} --validate`,
        'undefine vm1',
        'dominfo nosuch',
        'list --all --uuid',
      ];
      const s = await virshSteps(uri, cmds);
      const out = (c: string): string => step(s, c).out;
      const err = (c: string): string => step(s, c).err;
      assert.equal(out(`define ${f.vm1}`), `Domain 'vm1' defined from ${f.vm1}`);
      assert.match(out('list --all'), /^ 1 +test +running\n - +vm1 +shut off$/m);
      assert.match(out('dominfo vm1'), new RegExp(`^Id: +-\\nName: +vm1\\nUUID: +${UUID1}\\nOS Type: +hvm\\nState: +shut off\\nCPU\\(s\\): +1\\nMax memory: +65536 KiB\\nUsed memory: +65536 KiB\\nPersistent: +yes\\nAutostart: +disable\\nManaged save: +no$`));
      assert.equal(out('domstate vm1 --reason'), 'shut off (unknown)');
      assert.equal(out('domid vm1'), '-');
      assert.equal(out('domuuid vm1'), UUID1);
      assert.equal(out(`domname ${UUID1}`), 'vm1');
      assert.equal(out('domname 1'), 'test');
      assert.equal(out('start vm1'), "Domain 'vm1' started");
      const states = s.filter((x) => x.cmd === 'domstate vm1 --reason').map((x) => x.out);
      assert.deepEqual(states, ['shut off (unknown)', 'running (booted)', 'paused (user)', 'shut off (shutdown)', 'paused (user)']);
      // The live XML carries what the driver chose: tap name, aliases.
      assert.match(out('dumpxml vm1'), /<target dev='vnet0'\/>\s*<alias name='net0'\/>/);
      assert.match(out('domiflist vm1').split('\n')[2]!, /^ vnet0 +network +default +- +52:54:00:aa:00:01$/);
      assert.match(out('domblklist vm1'), /^ vda +\/var\/lib\/images\/vm1\.img$/m);
      assert.equal(out('suspend vm1'), "Domain 'vm1' suspended");
      assert.equal(out('resume vm1'), "Domain 'vm1' resumed");
      assert.equal(out(`attach-device vm1 ${f.nic} --live`), 'Device attached successfully');
      assert.equal(out(`attach-device vm1 ${f.disk} --persistent`), 'Device attached successfully');
      assert.match(out('domiflist --domain vm1'), /^ vnet1 +network +default +virtio +52:54:00:11:22:33$/m);
      assert.match(out('domblklist vm1 --inactive'), /^ vdb +\/var\/lib\/images\/data\.qcow2$/m);
      assert.equal(out(`update-device vm1 ${f.nicDown} --live`), 'Device updated successfully');
      assert.equal(out(`dumpxml vm1 --xpath "//interface[mac/@address='52:54:00:11:22:33']/link"`), '<link state="down"/>');
      assert.equal(out(`detach-device vm1 ${f.nic} --live`), 'Device detached successfully');
      assert.equal(out(`detach-device vm1 ${f.disk} --config`), 'Device detached successfully');
      assert.equal(out('detach-device-alias vm1 virtio-disk1 --live'), 'Device detach request sent successfully');
      assert.equal(out('detach-device-alias vm1 net0'), 'Device detach request sent successfully');
      assert.doesNotMatch(out('domiflist --domain=vm1'), /52:54:00:11:22:33|vnet0/);
      assert.equal(err(`attach-device vm1 ${f.bad} --live`), `error: Failed to attach device from ${f.bad}\nerror: XML error: unable to parse mac address 'nonsense'`);
      assert.equal(out('attach-interface vm1 network default --model virtio --mac 52:54:00:44:55:66 --live'), 'Interface attached successfully');
      assert.equal(out('detach-interface vm1 network --mac 52:54:00:44:55:66 --live'), 'Interface detached successfully');
      assert.equal(out('shutdown vm1 --mode acpi'), "Domain 'vm1' is being shutdown");
      assert.equal(out('start vm1 --paused'), "Domain 'vm1' started");
      assert.equal(out('destroy vm1 --graceful'), "Domain 'vm1' destroyed");
      assert.equal(err('destroy vm1'), "error: Failed to destroy domain 'vm1'\nerror: Requested operation is not valid: domain is not running");
      assert.equal(out(`create ${f.vm2} --paused`), `Domain 'vm2' created from ${f.vm2}`);
      assert.match(out('list --all --table'), /^ \d+ +vm2 +paused$/m);
      assert.equal(out('list --name --state-paused'), 'vm2');
      assert.equal(out('destroy vm2'), "Domain 'vm2' destroyed");
      assert.equal(out('undefine vm1 --nvram'), "Domain 'vm1' has been undefined");
      assert.equal(out(`define ${f.vm1} --validate`), `Domain 'vm1' defined from ${f.vm1}`);
      assert.equal(out('undefine vm1'), "Domain 'vm1' has been undefined");
      assert.equal(err('dominfo nosuch'), "error: failed to get domain 'nosuch'");
      assert.doesNotMatch(out('list --all --uuid'), new RegExp(`${UUID1}|${UUID2}`));
      const unexpected = s.filter((x) => x.err !== '' && ![`attach-device vm1 ${f.bad} --live`, 'destroy vm1', 'dominfo nosuch'].includes(x.cmd));
      assert.deepEqual(unexpected, []);
    });

    test('virsh event sees lifecycle and device events caused by another connection', async () => {
      const ev = run(VIRSH, ['-c', uri, 'event --all --loop --timeout 4'], '', 30_000, { ...process.env, LC_ALL: 'C' });
      await new Promise((r) => setTimeout(r, 1500));
      const s = await virshSteps(uri, [
        `define ${f.vm1}`,
        'start vm1',
        `attach-device vm1 ${f.nic} --live`,
        `detach-device vm1 ${f.nic} --live`,
        'destroy vm1',
        'undefine vm1',
      ]);
      assert.deepEqual(
        s.filter((x) => x.err),
        [],
      );
      const r = await ev;
      const lines = r.stdout.trim().split('\n');
      assert.deepEqual(lines, [
        "event 'lifecycle' for domain 'vm1': Defined Added",
        "event 'lifecycle' for domain 'vm1': Started Booted",
        "event 'device-added' for domain 'vm1': net1",
        "event 'device-removed' for domain 'vm1': net1",
        "event 'lifecycle' for domain 'vm1': Stopped Destroyed",
        "event 'lifecycle' for domain 'vm1': Undefined Removed",
        'event loop timed out',
        'events received: 6',
      ]);
    });

    test('the read-only socket serves reads and refuses every change with "operation forbidden"', async () => {
      const ro = `test+unix:///default?socket=${d.roSocket}`;
      const s = await virshSteps(ro, ['list --all', 'dumpxml test', 'dumpxml test --security-info', `define ${f.vm1}`, 'destroy test', `attach-device test ${f.nic} --live`, 'domstate test']);
      assert.match(step(s, 'list --all').out, /^ 1 +test +running$/m);
      assert.match(step(s, 'dumpxml test').out, /^<domain type='test' id='1'>/);
      assert.equal(step(s, 'dumpxml test --security-info').err, 'error: operation forbidden: virDomainGetXMLDesc with secure flag');
      assert.equal(step(s, `define ${f.vm1}`).err, `error: Failed to define domain from ${f.vm1}\nerror: operation forbidden: read only access prevents virDomainDefineXML`);
      assert.equal(step(s, 'destroy test').err, "error: Failed to destroy domain 'test'\nerror: operation forbidden: read only access prevents virDomainDestroy");
      assert.match(step(s, `attach-device test ${f.nic} --live`).err, /operation forbidden: read only access prevents virDomainAttachDeviceFlags$/);
      assert.equal(step(s, 'domstate test').out, 'running');
    });
  });

  const noLibvirtd = missingPeers(['libvirtd']);
  if (noLibvirtd) {
    unavailable('virsh output against libvirtd and virtkitd compared', noLibvirtd);
  } else {
    describe('virsh prints the same against libvirtd and virtkitd where both drivers support a command', () => {
      let d: InProcessDaemon;
      let lv: Libvirtd;
      let f: Record<string, string>;
      before(async () => {
        [d, lv] = await Promise.all([startInProcess(), startLibvirtd()]);
        f = files(d.dir);
      });
      after(async () => {
        await Promise.all([d.stop(), lv.stop()]);
      });

      test('lifecycle, lookups, listing and errors', async () => {
        // libvirt's test driver refuses flags on start/shutdown/destroy/undefine/create and has no
        // hot-plug, and its dominfo/dumpxml/domiflist describe its own fake host: those are left out.
        const cmds = [
          `define ${f.vm1}`,
          'list --all',
          'list --all --name',
          'list --inactive',
          'domstate vm1',
          'domstate vm1 --reason',
          'domid vm1',
          'domuuid vm1',
          `domname ${UUID1}`,
          'start vm1',
          'list',
          'domstate vm1 --reason',
          'suspend vm1',
          'domstate vm1 --reason',
          'list --state-paused --name',
          'resume vm1',
          'domstate vm1',
          'suspend nosuch',
          'start vm1',
          'shutdown vm1',
          'domstate vm1',
          'destroy vm1',
          'undefine vm1',
          'domuuid vm1',
          `create ${f.vm2}`,
          'list --name',
          'domid 999',
          'destroy vm2',
          'list --all --name',
          'dominfo nosuch',
          'hostname',
        ];
        const [ours, theirs] = await Promise.all([
          virshSteps(`test+unix:///default?socket=${d.socket}`, cmds),
          virshSteps(`test+unix:///default?socket=${lv.socket}`, cmds),
        ]);
        // Domain ids differ only by how many domains each daemon started before.
        const norm = (x: Step): string => `${x.out}\n${x.err}`.replace(/^ \d+( +vm\d)/gm, ' N$1').replace(/^\d+$/gm, 'N');
        for (let i = 0; i < cmds.length; i++) assert.equal(norm(ours[i]!), norm(theirs[i]!), `'${cmds[i]}' prints differently`);
      });
    });
  }
}
