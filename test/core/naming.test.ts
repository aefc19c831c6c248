import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freshCounters, namingFor } from '../../src/hypervisor/naming.js';
import { VirtError } from '../../src/index.js';

test('tap names come from a counter that never goes back and step over names the host has', () => {
  const counters = freshCounters();
  const host = new Set(['vnet1', 'vnet2', 'macvtap0']);
  const naming = namingFor(counters, 1, 0, (name) => host.has(name));
  assert.deepEqual([naming.allocTap('vnet'), naming.allocTap('vnet'), naming.allocTap('macvtap')], ['vnet0', 'vnet3', 'macvtap1']);
  assert.deepEqual(counters.taps, { vnet: 4, macvtap: 2 });
  // Without a host (the test driver) nothing is stepped over.
  assert.equal(namingFor(freshCounters(), 1, 0).allocTap('vnet'), 'vnet0');
});

test('a host where every name is taken gives a clear error, not a hang', () => {
  const naming = namingFor(freshCounters(), 1, 0, () => true);
  assert.throws(() => naming.allocTap('vnet'), (e: unknown) => e instanceof VirtError && /no free host interface name with prefix 'vnet'/.test(e.message));
});
