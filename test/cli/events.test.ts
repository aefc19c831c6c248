/** `event` through the built CLI: device events of a guest that answers unplug requests late. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { domainXml, outputs, tempDir, virtkit } from './helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let slow: string;
let refusing: string;
before(async () => {
  tmp = await tempDir();
  // The guest answers a second after the request: `event` (like virsh's) only sees events
  // that happen after it subscribed, so the delay must outlast the commands in between, even on a busy machine.
  slow = await tmp.file('slow.xml', domainXml('slow', { unplug: { ack: 'delay', delayMs: 1000 } }));
  refusing = await tmp.file('refusing.xml', domainXml('refusing', { unplug: { ack: 'reject', delayMs: 1000 } }));
});
after(() => tmp.cleanup());

describe('event', () => {
  it("--list names virsh's event types", async () => {
    const r = await virtkit(['event', '--list']);
    assert.equal(r.code, 0);
    const names = r.stdout.trim().split('\n');
    assert.equal(names.length, 27);
    assert.deepEqual(names.slice(0, 3), ['lifecycle', 'reboot', 'rtc-change']);
    for (const n of ['device-added', 'device-removed', 'device-removal-failed']) assert.ok(names.includes(n), n);
  });
  it('waits for the first event, prints it like virsh, and stops', async () => {
    const r = await virtkit([`define ${slow}; start slow; detach-device-alias slow net0; event slow --event device-removed --timeout 10; domiflist slow`]);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.equal(o[2], 'Device detach request sent successfully');
    assert.equal(o[3], "event 'device-removed' for domain 'slow': net0\nevents received: 1");
    assert.doesNotMatch(o[4]!, /network/, 'removed from the live XML once the guest answered');
  });
  it('--loop collects events until --timeout, then says so (exit 0)', async () => {
    const r = await virtkit([
      `define ${slow}; start slow; detach-device-alias slow net0; detach-device-alias slow virtio-disk0; event --all --loop --timeout 4 --domain slow`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const last = outputs(r.stdout).at(-1)!;
    assert.equal(
      last,
      "event 'device-removed' for domain 'slow': net0\nevent 'device-removed' for domain 'slow': virtio-disk0\nevent loop timed out\nevents received: 2",
    );
  });
  it('a guest refusing the unplug raises device-removal-failed', async () => {
    const r = await virtkit([`define ${refusing}; start refusing; detach-device-alias refusing net0; event --event device-removal-failed --timeout 10 --timestamp`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(outputs(r.stdout)[3]!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000: event 'device-removal-failed' for domain 'refusing': net0\nevents received: 1$/);
  });
  it('on a state folder, sees what another invocation does', async () => {
    const uri = `test:///default?state=${tmp.dir}/shared-events`;
    await virtkit(['-c', uri, 'list']);
    const watcher = virtkit(['-c', uri, 'event', '--event', 'lifecycle', '--loop', '--timeout', '6']);
    await new Promise((r) => setTimeout(r, 1500));
    const other = await virtkit(['-c', uri, `define ${slow}; start slow`]);
    assert.equal(other.code, 0, other.stderr);
    const r = await watcher;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /event 'lifecycle' for domain 'slow': Defined Added\nevent 'lifecycle' for domain 'slow': Started Booted\n/);
  });
  it('times out with no events: exit status 1 without an error line, as virsh', async () => {
    const r = await virtkit(['event', '--all', '--timeout', '1']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, 'event loop timed out\nevents received: 0\n\n', '']);
    // A type virtkit's drivers never deliver is accepted and waited for like any other.
    const reboot = await virtkit(['event', '--event', 'reboot', '--timeout', '1']);
    assert.deepEqual([reboot.code, reboot.stdout], [1, 'event loop timed out\nevents received: 0\n\n']);
  });
  it('errors: no event chosen, unknown event, bad timeout, unknown domain', async () => {
    const none = await virtkit(['event', '--timeout', '1']);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'error: one of --list, --all, or --event <type> is required\n');
    const bogus = await virtkit(['event', '--event', 'bogus', '--timeout', '1']);
    assert.equal(bogus.code, 1);
    assert.match(bogus.stderr, /^error: unknown event type bogus\nhint: see 'virtkit event --list'.\n$/);
    const timeout = await virtkit(['event', '--all', '--timeout', '0']);
    assert.equal(timeout.code, 1);
    assert.match(timeout.stderr, /^error: Numeric value '0' for <timeout> option is malformed or out of range/);
    const dom = await virtkit(['event', 'nosuch', '--all', '--timeout', '1']);
    assert.equal(dom.code, 1);
    assert.equal(dom.stderr, "error: failed to get domain 'nosuch'\n");
  });
});
