/**
 * Real libvirt-python (Debian's python3-libvirt) against virtkitd: attachDeviceFlags,
 * detachDeviceFlags, XMLDesc and event callbacks, device-removed included, as a Python program
 * using libvirt's own event loop sees them.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { missingPeers, PYTHON, run, startInProcess, unavailable } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/pylibvirt_session.py', import.meta.url));

const missing = missingPeers(['python3-libvirt']);
if (missing) {
  unavailable('python3-libvirt against virtkitd', missing);
} else {
  test('python3-libvirt: hot-plug with a slow guest, XMLDesc, device-removed delivered to its callback', async () => {
    // The guest answers unplugs after 700 ms; the daemon waits 200 ms, so detach returns "request sent".
    const d = await startInProcess({ drivers: { defaultUri: 'test:///default', unplugTimeoutMs: 200 } });
    try {
      const r = await run(PYTHON, [SCRIPT, `test+unix:///default?socket=${d.socket}`], '', 60_000);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { events: unknown[][]; steps: unknown[][] };
      const step = (name: string) => out.steps.find((s) => s[0] === name)?.slice(1);
      assert.deepEqual(step('attach'), [0]);
      assert.deepEqual(step('xml-has-nic'), [true, true, true]);
      assert.deepEqual(step('config-has-nic'), [false]);
      assert.deepEqual(step('detach'), [0]);
      assert.deepEqual(step('still-in-live-xml'), [true]);
      assert.deepEqual(step('gone-after-event'), [true]);
      assert.deepEqual(step('detach-again'), [99, "device not found: no device found at address '(<null>)' matching MAC address '52:54:00:77:00:01' and alias '(<null>)'"]);
      assert.deepEqual(step('state'), [[1, 1]]);
      assert.deepEqual(step('info-mem'), [131072]);
      assert.deepEqual(out.events, [
        ['lifecycle', 'py1', 0, 0],
        ['lifecycle', 'py1', 2, 0],
        ['device-added', 'py1', 'net0'],
        ['device-removed', 'py1', 'net0'],
        ['lifecycle', 'py1', 5, 1],
        ['lifecycle', 'py1', 1, 0],
      ]);
    } finally {
      await d.stop();
    }
  });
}
