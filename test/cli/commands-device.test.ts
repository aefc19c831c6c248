/** Device commands through the built CLI: attach/detach/update-device, detach-device-alias, the disk/interface shorthands, change-media, domblklist, domiflist. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { diskXml, domainXml, nicXml, outputs, tempDir, virtkit } from './helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
const f: Record<string, string> = {};
before(async () => {
  tmp = await tempDir();
  f['vm1'] = await tmp.file('vm1.xml', domainXml('vm1'));
  f['cd'] = await tmp.file('cd.xml', domainXml('cd', { cdrom: true }));
  f['slow'] = await tmp.file('slow.xml', domainXml('slow', { unplug: { ack: 'never' } }));
  f['nic'] = await tmp.file('nic.xml', nicXml('52:54:00:00:00:aa'));
  f['nicDown'] = await tmp.file('nic-down.xml', "<interface type='network'>\n  <mac address='aa:bb:cc:dd:ee:ff'/>\n  <source network='default'/>\n  <link state='down'/>\n</interface>\n");
  f['disk'] = await tmp.file('disk.xml', diskXml('vdb'));
  f['bad'] = await tmp.file('bad.xml', "<interface type='network'>");
});
after(() => tmp.cleanup());

/** One invocation, commands separated by ';'. */
const session = (commands: string, uri?: string) => virtkit(uri ? ['-c', uri, commands] : [commands]);
/** The same with --strict: the exit status is 1 when any command failed, not only the last. */
const strict = (commands: string) => virtkit(['--strict', commands]);

describe('attach-device / detach-device', () => {
  it('no flag on a running domain attaches live; the live XML then shows the allocated names', async () => {
    const r = await session(`define ${f['vm1']}; start vm1; attach-device vm1 ${f['nic']}; domiflist vm1; domiflist vm1 --inactive`);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.equal(o[2], 'Device attached successfully');
    assert.match(o[3]!, /^ vnet\d+ +network +default +virtio +52:54:00:00:00:aa$/m);
    assert.doesNotMatch(o[4]!, /52:54:00:00:00:aa/, 'a live-only attach leaves the definition alone');
  });
  it('no flag on a shut-off domain is LIVE and fails with "domain is not running"', async () => {
    const r = await session(`define ${f['vm1']}; attach-device vm1 ${f['nic']}`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^error: Failed to attach device from ${f['nic']}\\nerror: .*domain is not running\\n$`));
  });
  it('--live on a shut-off domain fails the same way, --config and --current change the definition', async () => {
    const r = await strict(`define ${f['vm1']}; attach-device vm1 ${f['nic']} --live; attach-device vm1 ${f['nic']} --config; domiflist vm1; detach-device vm1 ${f['nic']} --current; domiflist vm1`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /domain is not running/);
    const o = outputs(r.stdout);
    assert.equal(o[1], '', 'the failed command printed nothing');
    assert.equal(o[2], 'Device attached successfully');
    assert.match(o[3]!, /52:54:00:00:00:aa/);
    assert.equal(o[4], 'Device detached successfully');
    assert.doesNotMatch(o[5]!, /52:54:00:00:00:aa/);
  });
  it('--persistent on a running domain changes both definitions', async () => {
    const r = await session(`define ${f['vm1']}; start vm1; attach-device vm1 ${f['nic']} --persistent; domiflist vm1; domiflist vm1 --inactive; detach-device vm1 ${f['nic']} --persistent; domiflist vm1; domiflist vm1 --inactive`);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.match(o[3]!, /52:54:00:00:00:aa/);
    assert.match(o[4]!, /52:54:00:00:00:aa/);
    assert.equal(o[5], 'Device detached successfully');
    assert.doesNotMatch(o[6]!, /52:54:00:00:00:aa/);
    assert.doesNotMatch(o[7]!, /52:54:00:00:00:aa/);
  });
  it("a guest that does not answer: virsh's success line, a note on stderr, the device stays until it does", async () => {
    const r = await session(`define ${f['slow']}; start slow; attach-device slow ${f['nic']}; detach-device slow ${f['nic']}; domiflist slow`, 'test:///default?unplugTimeout=50');
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.equal(o[3], 'Device detached successfully', 'scripts grepping virsh\'s line keep working');
    assert.match(r.stderr, /^note: the guest has not acknowledged the unplug of device 'net1' yet; .*device-removed/);
    assert.match(o[4]!, /52:54:00:00:00:aa/);
  });
  it('--current with --live or --config, and --persistent with --current, are refused', async () => {
    for (const extra of [['--current', '--live'], ['--current', '--config'], ['--persistent', '--current']]) {
      const r = await virtkit(['attach-device', 'test', f['nic']!, ...extra]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^error: Options --\S+ and --\S+ are mutually exclusive/);
    }
  });
  it('bad XML, missing file, missing domain, missing device', async () => {
    const bad = await virtkit(['attach-device', 'test', f['bad']!]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: Failed to attach device from .*bad\.xml\nerror: malformed XML/);
    const missing = await virtkit(['detach-device', 'test', '/nonexistent.xml']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, "error: Failed to open file '/nonexistent.xml': No such file or directory\n");
    const nodom = await virtkit(['attach-device', 'nosuch', f['nic']!]);
    assert.equal(nodom.stderr, "error: failed to get domain 'nosuch'\n");
    const nodev = await virtkit(['--debug', 'detach-device', 'test', f['disk']!]);
    assert.equal(nodev.code, 1);
    assert.match(nodev.stderr, /^error: Failed to detach device from .*\nerror: .*vdb.*\nerror: code=99 \(VIR_ERR_DEVICE_MISSING\)/);
  });
});

describe('update-device', () => {
  it('changes a live NIC (link state) and accepts --force', async () => {
    const r = await session(`update-device test ${f['nicDown']}; dumpxml test; update-device test ${f['nicDown']} --live --force`);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.equal(o[0], 'Device updated successfully');
    assert.match(o[1]!, /<link state='down'\/>/);
    assert.equal(o[2], 'Device updated successfully');
  });
  it('errors carry virsh\'s context line', async () => {
    const r = await virtkit(['update-device', 'test', f['disk']!]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: Failed to update device from .*disk\.xml\nerror: /);
  });
});

describe('detach-device-alias', () => {
  it('always reports the request as sent, and the device goes', async () => {
    const r = await session('detach-device-alias test net0; domiflist test');
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.equal(o[0], 'Device detach request sent successfully');
    assert.doesNotMatch(o[1]!, /testnet0/);
  });
  it('unknown alias', async () => {
    const r = await virtkit(['detach-device-alias', 'test', 'net9']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: Failed to detach device with alias net9\nerror: /);
  });
});

describe('attach-disk / detach-disk', () => {
  it('--print-xml shows the XML built by the library, without a domain lookup', async () => {
    const r = await virtkit(['attach-disk', 'nosuch', '/images/x.qcow2', 'vdb', '--subdriver', 'qcow2', '--targetbus', 'virtio', '--mode', 'readonly', '--print-xml']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "<disk type='file'>\n  <driver type='qcow2'/>\n  <source file='/images/x.qcow2'/>\n  <target dev='vdb' bus='virtio'/>\n  <readonly/>\n</disk>\n\n");
  });
  it('attaches live, lists it, detaches by target and by source path', async () => {
    const r = await session(`attach-disk test /images/x.img vdb --targetbus virtio; attach-disk test /images/y.img vdc; domblklist test; detach-disk test vdb; detach-disk test /images/y.img; domblklist test`);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.deepEqual([o[0], o[1], o[3], o[4]], ['Disk attached successfully', 'Disk attached successfully', 'Disk detached successfully', 'Disk detached successfully']);
    assert.equal(o[2], ' Target   Source\n-----------------------------\n vda      /guest/diskimage1\n vdb      /images/x.img\n vdc      /images/y.img');
    assert.equal(o[5], ' Target   Source\n-----------------------------\n vda      /guest/diskimage1');
  });
  it('--config on a shut-off domain; without flags it fails there', async () => {
    const r = await strict(`define ${f['vm1']}; attach-disk vm1 /images/x.img vdb; attach-disk vm1 /images/x.img vdb --config; domblklist vm1 --details; detach-disk vm1 vdb --print-xml --config`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: Failed to attach disk\nerror: .*domain is not running/);
    const o = outputs(r.stdout);
    assert.equal(o[2], 'Disk attached successfully');
    assert.match(o[3]!, /^ Type +Device +Target +Source\n-+\n file +disk +vda +\/images\/vm1\.img\n file +disk +vdb +\/images\/x\.img$/);
    assert.match(o[4]!, /^<disk type='file' device='disk'>\n {2}<source file='\/images\/x\.img'\/>\n {2}<target dev='vdb' bus='virtio'\/>/);
  });
  it('errors: bad option value, unknown target', async () => {
    const mode = await virtkit(['attach-disk', 'test', '/x', 'vdb', '--mode', 'bogus']);
    assert.equal(mode.code, 1);
    assert.equal(mode.stderr, "error: No support for bogus in command 'attach-disk'\n");
    const rbd = await virtkit(['attach-disk', 'test', 'pool/img', 'vdb', '--source-protocol', 'rbd', '--source-host-name', 'mon1', '--print-xml']);
    assert.equal(rbd.stdout, "<disk type='network'>\n  <source protocol='rbd' name='pool/img'>\n    <host name='mon1'/>\n  </source>\n  <target dev='vdb'/>\n</disk>\n\n");
    const host = await virtkit(['attach-disk', 'test', 'pool/img', 'vdb', '--source-host-name', 'mon1', '--print-xml']);
    assert.deepEqual([host.code, host.stderr], [1, 'error: Option --source-protocol is required by option --source-host-name\n']);
    const address = await virtkit(['attach-disk', 'test', '/x', 'sdb', '--address', 'pci:0.0.1.0', '--print-xml']);
    assert.equal(address.stderr, 'error: expecting a scsi:00.00.00 or usb:00.00 or sata:00.00.00 address.\n');
    const missing = await virtkit(['detach-disk', 'test', 'vdz']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'error: No disk found whose source path or target is vdz\n');
  });
});

describe('attach-interface / detach-interface', () => {
  it('--print-xml builds the interface from the shorthand options', async () => {
    const r = await virtkit(['attach-interface', 'test', 'bridge', 'br0', '--mac', '52:54:00:11:22:33', '--model', 'e1000e', '--print-xml']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "<interface type='bridge'>\n  <source bridge='br0'/>\n  <mac address='52:54:00:11:22:33'/>\n  <model type='e1000e'/>\n</interface>\n\n");
    const managed = await virtkit(['attach-interface', 'nosuch', 'hostdev', '0000:00:19.0', '--managed', '--print-xml']);
    assert.match(managed.stdout, /^<interface type='hostdev' managed='yes'>/);
  });
  it('attaches and detaches by type and MAC', async () => {
    const r = await strict('attach-interface test network default --model virtio --mac 52:54:00:00:00:bb; domiflist test; detach-interface test network; detach-interface test network --mac 52:54:00:00:00:bb; domiflist test');
    assert.equal(r.code, 1, 'the ambiguous detach fails');
    assert.equal(r.stderr, 'error: Domain has 2 interfaces. Please specify which one to detach using --mac\nerror: Failed to detach interface\n');
    const o = outputs(r.stdout);
    assert.equal(o[0], 'Interface attached successfully');
    assert.match(o[1]!, /^ testnet0 +network +default +- +aa:bb:cc:dd:ee:ff\n vnet0 +network +default +virtio +52:54:00:00:00:bb$/m);
    assert.equal(o[3], 'Interface detached successfully');
    assert.doesNotMatch(o[4]!, /52:54:00:00:00:bb/);
  });
  it('--persistent on a shut-off domain edits the definition only', async () => {
    const r = await session(`define ${f['vm1']}; attach-interface vm1 bridge br0 --persistent; domiflist vm1; detach-interface vm1 bridge --config; domiflist vm1`);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.match(o[2]!, /^ - +bridge +br0 /m);
    assert.equal(o[3], 'Interface detached successfully');
    assert.doesNotMatch(o[4]!, /bridge/);
  });
  it('errors: bad type, bad MAC, no such interface', async () => {
    const type = await virtkit(['attach-interface', 'test', 'mcast', 'x']);
    assert.equal(type.code, 1);
    assert.equal(type.stderr, "error: No support for mcast in command 'attach-interface'\n");
    const user = await virtkit(['attach-interface', 'test', 'user']);
    assert.equal(user.code, 1);
    assert.match(user.stderr, /^error: command 'attach-interface' requires <source> option\n/);
    const mac = await virtkit(['attach-interface', 'test', 'network', 'default', '--mac', 'nonsense']);
    assert.equal(mac.code, 1);
    assert.match(mac.stderr, /^error: Failed to attach interface\nerror: .*unable to parse mac address 'nonsense'/);
    const none = await virtkit(['detach-interface', 'test', 'bridge']);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'error: No interface found whose type is bridge\nerror: Failed to detach interface\n');
  });
});

describe('change-media', () => {
  it('ejects, inserts and updates a CD-ROM', async () => {
    const r = await session(
      `define ${f['cd']}; start cd; change-media cd hdc --eject; domblklist cd; change-media cd hdc /iso/new.iso --insert; change-media cd hdc /iso/newer.iso; domblklist cd; change-media cd hdc /iso/cfg.iso --update --config; domblklist cd --inactive`,
    );
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.equal(o[2], 'Successfully ejected media.');
    assert.match(o[3]!, /^ hdc +-$/m);
    assert.equal(o[4], 'Successfully inserted media.');
    assert.equal(o[5], 'Successfully updated media.');
    assert.match(o[6]!, /^ hdc +\/iso\/newer\.iso$/m);
    assert.match(o[8]!, /^ hdc +\/iso\/cfg\.iso$/m);
  });
  it('--print-xml shows the update XML', async () => {
    const r = await session(`define ${f['cd']}; change-media cd hdc /dev/sr0 --block --print-xml`);
    assert.match(outputs(r.stdout)[1]!, /^<disk type='block' device='cdrom'>\n {2}<source dev='\/dev\/sr0'\/>\n {2}<target dev='hdc' bus='ide'\/>/);
  });
  it('errors: not a removable drive, no media, no source, exclusive actions', async () => {
    const r = await session(`define ${f['cd']}; change-media cd vda --eject; change-media cd hdc --insert /x.iso; change-media cd hdc`);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "error: No disk found whose source path or target is vda\nerror: The disk device 'hdc' already has media\nerror: New disk media source was not specified\n",
    );
    const ex = await virtkit(['change-media', 'test', 'hdc', '--eject', '--insert']);
    assert.match(ex.stderr, /^error: Options --eject and --insert are mutually exclusive/);
  });
});

describe('domblklist / domiflist', () => {
  it('virsh columns, --details, --json', async () => {
    const r = await session('domblklist test --details; domiflist test; domblklist test --json; domiflist test --json');
    assert.equal(r.code, 0);
    const o = outputs(r.stdout);
    assert.equal(o[0], ' Type   Device   Target   Source\n---------------------------------------------\n file   disk     vda      /guest/diskimage1');
    assert.equal(o[1], ' Interface   Type      Source    Model   MAC\n------------------------------------------------------------\n testnet0    network   default   -       aa:bb:cc:dd:ee:ff');
    assert.deepEqual(JSON.parse(o[2]!), [{ type: 'file', device: 'disk', target: 'vda', source: '/guest/diskimage1' }]);
    assert.deepEqual(JSON.parse(o[3]!), [{ interface: 'testnet0', type: 'network', source: 'default', model: null, mac: 'aa:bb:cc:dd:ee:ff', alias: 'net0' }]);
  });
  it('unknown domain', async () => {
    for (const cmd of ['domblklist', 'domiflist']) {
      const r = await virtkit([cmd, 'nosuch']);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, "error: failed to get domain 'nosuch'\n");
    }
  });
});
