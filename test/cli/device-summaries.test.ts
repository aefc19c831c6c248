/** domblklist / domiflist rows from domain XML. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { listDisks, listInterfaces } from '../../src/index.js';

const DOMAIN = `<domain type='test'>
  <name>d</name>
  <devices>
    <disk type='file' device='disk'><source file='/guest/a.img'/><target dev='vda' bus='virtio'/></disk>
    <disk type='block' device='cdrom'><target dev='hdc' bus='ide'/></disk>
    <disk type='volume' device='disk'><source pool='p' volume='v'/><target dev='vdb'/></disk>
    <disk type='network' device='disk'><source protocol='rbd' name='pool/img'/><target dev='vdc'/></disk>
    <disk type='file' device='disk'><source file='/no-target.img'/></disk>
    <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/><target dev='vnet3'/><model type='virtio'/><alias name='net0'/></interface>
    <interface type='bridge'><source bridge='br0'/></interface>
    <interface type='direct'><source dev='eth0' mode='vepa'/></interface>
    <interface type='user'/>
  </devices>
</domain>`;

describe('listDisks', () => {
  it('returns type, device, target and source per disk with a target', () => {
    assert.deepEqual(listDisks(DOMAIN, { details: true }), [
      { type: 'file', device: 'disk', target: 'vda', source: '/guest/a.img' },
      { type: 'block', device: 'cdrom', target: 'hdc', source: undefined },
      { type: 'volume', device: 'disk', target: 'vdb', source: 'p/v' },
      { type: 'network', device: 'disk', target: 'vdc', source: 'pool/img' },
    ]);
  });
  it('is empty without devices', () => {
    assert.deepEqual(listDisks('<domain><name>x</name></domain>'), []);
  });
});

describe('listInterfaces', () => {
  it('returns the virsh domiflist columns plus the alias', () => {
    assert.deepEqual(listInterfaces(DOMAIN), [
      { interface: 'vnet3', type: 'network', source: 'default', model: 'virtio', mac: '52:54:00:00:00:01', alias: 'net0' },
      { interface: undefined, type: 'bridge', source: 'br0', model: undefined, mac: undefined, alias: undefined },
      { interface: undefined, type: 'direct', source: 'eth0', model: undefined, mac: undefined, alias: undefined },
      { interface: undefined, type: 'user', source: undefined, model: undefined, mac: undefined, alias: undefined },
    ]);
  });
});
