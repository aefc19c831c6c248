/** The library's device XML builders behind attach-disk, attach-interface, detach-*, change-media. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildAddressElement,
  buildDiskMatchXml,
  buildDiskXml,
  buildInterfaceMatchXml,
  buildInterfaceXml,
  buildMediaChangeXml,
  ErrorCode,
  VirtError,
  xml,
} from '../../src/index.js';

const hasCode = (code: number) => (err: unknown) => err instanceof VirtError && err.code === code;

describe('buildDiskXml', () => {
  it('builds the minimal disk virsh attach-disk prints', () => {
    assert.equal(buildDiskXml({ source: '/var/lib/x.qcow2', target: 'vdb' }), "<disk type='file'>\n  <source file='/var/lib/x.qcow2'/>\n  <target dev='vdb'/>\n</disk>\n");
  });
  it('maps every shorthand option to its element', () => {
    const out = buildDiskXml({
      source: '/var/lib/x.qcow2',
      target: 'vdb',
      driver: 'qemu',
      subdriver: 'qcow2',
      cache: 'none',
      io: 'native',
      iothread: 2,
      targetBus: 'virtio',
      mode: 'readonly',
      serial: 'S1',
      wwn: '5000c50015ea71ac',
      alias: 'ua-d',
      rawio: true,
      address: 'pci:0000.00.0a.0',
      multifunction: true,
    });
    assert.equal(
      out,
      `<disk type='file' rawio='yes'>
  <driver name='qemu' type='qcow2' iothread='2' cache='none' io='native'/>
  <source file='/var/lib/x.qcow2'/>
  <target dev='vdb' bus='virtio'/>
  <readonly/>
  <serial>S1</serial>
  <alias name='ua-d'/>
  <wwn>5000c50015ea71ac</wwn>
  <address type='pci' domain='0x0000' bus='0x00' slot='0x0a' function='0x0' multifunction='on'/>
</disk>
`,
    );
  });
  it('builds block, cdrom without media, and network disks', () => {
    assert.match(buildDiskXml({ source: '/dev/sdz', target: 'sdb', sourceType: 'block', type: 'cdrom' }), /<disk type='block' device='cdrom'>\n {2}<source dev='\/dev\/sdz'\/>/);
    assert.doesNotMatch(buildDiskXml({ target: 'hdc', type: 'cdrom' }), /<source/);
    // virsh writes an empty source as given.
    assert.match(buildDiskXml({ source: '', target: 'hdc', type: 'cdrom' }), /<source file=''\/>/);
    assert.equal(
      buildDiskXml({ source: 'pool/vol1', target: 'vdc', sourceType: 'network', sourceProtocol: 'rbd', sourceHostName: 'mon1:6789' }),
      "<disk type='network'>\n  <source protocol='rbd' name='pool/vol1'>\n    <host name='mon1' port='6789'/>\n  </source>\n  <target dev='vdc'/>\n</disk>\n",
    );
  });
  it('a source protocol alone makes a network disk, as in virsh', () => {
    assert.equal(
      buildDiskXml({ source: 'pool/img', target: 'vdb', sourceProtocol: 'rbd', sourceHostName: 'mon1:6789' }),
      "<disk type='network'>\n  <source protocol='rbd' name='pool/img'>\n    <host name='mon1' port='6789'/>\n  </source>\n  <target dev='vdb'/>\n</disk>\n",
    );
    assert.match(
      buildDiskXml({ source: 'img', target: 'vdb', sourceProtocol: 'nbd', sourceHostTransport: 'unix', sourceHostSocket: '/run/nbd.sock' }),
      /<host transport='unix' socket='\/run\/nbd.sock'\/>/,
    );
    assert.match(buildDiskXml({ source: 'img', target: 'vdb', sourceProtocol: 'nbd', sourceHostName: '[::1]:10809' }), /<host name='\[::1\]' port='10809'\/>/);
    assert.throws(() => buildDiskXml({ source: '/x', target: 'vdb', sourceType: 'file', sourceProtocol: 'rbd' }), /requires --sourcetype network/);
  });
  it('rejects what libvirt would not understand', () => {
    assert.throws(() => buildDiskXml({ source: '/x', target: '' }), hasCode(ErrorCode.INVALID_ARG));
    assert.throws(() => buildDiskXml({ source: '/x', target: 'vdb', mode: 'bogus' }), /unsupported disk mode 'bogus'/);
    // The device type is the driver's to judge, as in virsh.
    assert.match(buildDiskXml({ source: '/x', target: 'vdb', type: 'tape' }), /device='tape'/);
    assert.throws(() => buildDiskXml({ source: 'v', target: 'vdb', sourceType: 'network' }), /needs a source protocol/);
  });
});

describe('buildAddressElement', () => {
  it("parses virsh's address syntax", () => {
    assert.equal(xml.serializeXml(buildAddressElement('scsi:0.0.3')), "<address type='drive' controller='0' bus='0' unit='3'/>\n");
    assert.equal(xml.serializeXml(buildAddressElement('usb:1.2')), "<address type='usb' bus='1' port='2'/>\n");
    assert.equal(xml.serializeXml(buildAddressElement('ccw:fe.0.1234')), "<address type='ccw' cssid='0xfe' ssid='0x0' devno='0x1234'/>\n");
    assert.throws(() => buildAddressElement('pci:1.2'), /invalid address/);
    assert.throws(() => buildAddressElement('isa:1'), /invalid address/);
  });
});

describe('buildInterfaceXml', () => {
  it('builds what virsh attach-interface prints', () => {
    assert.equal(
      buildInterfaceXml({ type: 'network', source: 'default', model: 'virtio' }),
      "<interface type='network'>\n  <source network='default'/>\n  <model type='virtio'/>\n</interface>\n",
    );
    assert.equal(
      buildInterfaceXml({ type: 'bridge', source: 'br0', mac: '52:54:00:11:22:33', target: 'tap0', model: 'e1000', alias: 'ua-x', script: '/bin/true' }),
      `<interface type='bridge'>
  <source bridge='br0'/>
  <target dev='tap0'/>
  <mac address='52:54:00:11:22:33'/>
  <script path='/bin/true'/>
  <model type='e1000'/>
  <alias name='ua-x'/>
</interface>
`,
    );
  });
  it('builds direct, vhostuser, hostdev, ethernet and bandwidth', () => {
    assert.match(buildInterfaceXml({ type: 'direct', source: 'eth0', sourceMode: 'bridge' }), /<source dev='eth0' mode='bridge'\/>/);
    assert.match(buildInterfaceXml({ type: 'vhostuser', source: '/tmp/s', sourceMode: 'server' }), /<source type='unix' path='\/tmp\/s' mode='server'\/>/);
    assert.match(
      buildInterfaceXml({ type: 'hostdev', source: '0000:00:19.0', managed: true }),
      /<interface type='hostdev' managed='yes'>\n {2}<source>\n {4}<address type='pci' domain='0x0000' bus='0x00' slot='0x19' function='0x0'\/>/,
    );
    assert.equal(buildInterfaceXml({ type: 'ethernet', target: 'tap7' }), "<interface type='ethernet'>\n  <target dev='tap7'/>\n</interface>\n");
    assert.match(
      buildInterfaceXml({ type: 'network', source: 'default', inbound: '100,200,300', outbound: '50' }),
      /<bandwidth>\n {4}<inbound average='100' peak='200' burst='300'\/>\n {4}<outbound average='50'\/>\n {2}<\/bandwidth>/,
    );
    // Zero and empty fields are left out; a floor alone is enough inbound.
    assert.match(buildInterfaceXml({ type: 'network', source: 'n', inbound: '0,,0,5' }), /<inbound floor='5'\/>/);
  });
  it('keeps --managed and the MAC as given, like virsh', () => {
    assert.match(buildInterfaceXml({ type: 'network', source: 'default', managed: true }), /^<interface type='network' managed='yes'>/);
    assert.match(buildInterfaceXml({ type: 'network', source: 'default', mac: '52:54:00:AB:cd:01' }), /<mac address='52:54:00:AB:cd:01'\/>/);
  });
  it('rejects bad types, sources, MACs and rates', () => {
    assert.throws(() => buildInterfaceXml({ type: 'mcast', source: 'x' }), /unsupported interface type 'mcast'/);
    assert.throws(() => buildInterfaceXml({ type: 'network' }), /needs a source/);
    assert.throws(() => buildInterfaceXml({ type: 'hostdev', source: 'nope' }), hasCode(ErrorCode.INVALID_ARG));
    assert.throws(() => buildInterfaceXml({ type: 'hostdev', source: '00:19.0' }), /cannot parse pci address '00:19.0' for network interface/);
    assert.throws(() => buildInterfaceXml({ type: 'network', source: 'n', outbound: '1,2,3,4' }), /outbound floor is unsupported yet/);
    assert.throws(() => buildInterfaceXml({ type: 'network', source: 'n', outbound: '0' }), /outbound average is mandatory/);
    assert.throws(() => buildInterfaceXml({ type: 'network', source: 'n', inbound: '0' }), /either inbound average or floor is mandatory/);
    assert.throws(() => buildInterfaceXml({ type: 'network', source: 'n', inbound: '1,x' }), /field 'peak' is malformed/);
    assert.throws(() => buildInterfaceXml({ type: 'network', source: 'n', inbound: '1,2,3,4,5' }), /Rate string '1,2,3,4,5' has too many fields/);
    assert.throws(() => buildInterfaceXml({ type: 'vhostuser', source: '/s', sourceMode: 'bridge' }), /Invalid source mode: bridge/);
    assert.throws(() => buildInterfaceXml({ type: 'vhostuser', source: '/s' }), /source-mode is mandatory/);
  });
});

const DOMAIN = `<domain type='test'>
  <name>d</name>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/a.img'/>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='/old.iso'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='hdd' bus='ide'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:00:00:01'/>
      <source network='default'/>
    </interface>
    <interface type='network'>
      <mac address='52:54:00:00:00:02'/>
      <source network='default'/>
    </interface>
    <interface type='bridge'>
      <mac address='52:54:00:00:00:03'/>
      <source bridge='br0'/>
    </interface>
  </devices>
</domain>`;

describe('match XML for detach-disk / detach-interface', () => {
  it('cuts the disk by target or by source path', () => {
    const byTarget = buildDiskMatchXml(DOMAIN, 'vda');
    assert.match(byTarget, /^<disk type='file' device='disk'>\n {2}<source file='\/guest\/a.img'\/>\n {2}<target dev='vda' bus='virtio'\/>\n {2}<alias name='virtio-disk0'\/>\n<\/disk>\n$/);
    assert.equal(buildDiskMatchXml(DOMAIN, '/guest/a.img'), byTarget);
    assert.throws(() => buildDiskMatchXml(DOMAIN, 'vdz'), (e: unknown) => hasCode(ErrorCode.DEVICE_MISSING)(e) && /No disk found whose source path or target is vdz/.test(String(e)));
  });
  it('cuts the interface by type, and by MAC when several share it', () => {
    assert.match(buildInterfaceMatchXml(DOMAIN, 'bridge'), /52:54:00:00:00:03/);
    assert.match(buildInterfaceMatchXml(DOMAIN, 'network', '52:54:00:00:00:02'), /52:54:00:00:00:02/);
    assert.match(buildInterfaceMatchXml(DOMAIN, 'network', '52:54:00:00:00:02'.toUpperCase()), /52:54:00:00:00:02/);
    assert.throws(() => buildInterfaceMatchXml(DOMAIN, 'network'), /Domain has 2 interfaces. Please specify which one to detach using --mac/);
    assert.throws(() => buildInterfaceMatchXml(DOMAIN, 'direct'), /No interface found whose type is direct/);
    assert.throws(() => buildInterfaceMatchXml(DOMAIN, 'network', '52:54:00:99:99:99'), /No interface with MAC address 52:54:00:99:99:99 was found/);
  });
});

describe('buildMediaChangeXml', () => {
  it('ejects, inserts and updates media of CD-ROM drives only', () => {
    const ejected = buildMediaChangeXml(DOMAIN, 'hdc', { action: 'eject' });
    assert.doesNotMatch(ejected, /<source/);
    assert.match(ejected, /<driver name='qemu' type='raw'\/>\n {2}<target dev='hdc' bus='ide'\/>/);
    assert.match(buildMediaChangeXml(DOMAIN, 'hdd', { action: 'insert', source: '/new.iso' }), /<disk type='file' device='cdrom'>\n {2}<source file='\/new.iso'\/>\n {2}<target dev='hdd'/);
    assert.match(buildMediaChangeXml(DOMAIN, '/old.iso', { action: 'update', source: '/dev/sr0', block: true }), /<disk type='block' device='cdrom'>\n {2}<driver name='qemu' type='raw'\/>\n {2}<source dev='\/dev\/sr0'\/>/);
    // --update without a source ejects, as in virsh.
    assert.doesNotMatch(buildMediaChangeXml(DOMAIN, 'hdc', { action: 'update' }), /<source/);
  });
  it("gives virsh's errors", () => {
    assert.throws(() => buildMediaChangeXml(DOMAIN, 'vda', { action: 'eject' }), /No disk found whose source path or target is vda/);
    assert.throws(() => buildMediaChangeXml(DOMAIN, 'hdd', { action: 'eject' }), /The disk device 'hdd' doesn't have media/);
    assert.throws(() => buildMediaChangeXml(DOMAIN, 'hdc', { action: 'insert', source: '/x' }), /The disk device 'hdc' already has media/);
    assert.throws(() => buildMediaChangeXml(DOMAIN, 'hdd', { action: 'insert' }), /New disk media source was not specified/);
  });
});
