/** Issue 11 through the built CLI: --wait / --if-present / --resend / --isolate on the detach commands, pending-devices, isolate-device. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { domainXml, nicXml, outputs, tempDir, virtkit } from './helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
const f: Record<string, string> = {};
before(async () => {
  tmp = await tempDir();
  f['never'] = await tmp.file('never.xml', domainXml('never', { unplug: { ack: 'never' } }));
  f['slow'] = await tmp.file('slow.xml', domainXml('slow', { unplug: { ack: 'delay', delayMs: 300 } }));
  f['quick'] = await tmp.file('quick.xml', domainXml('quick'));
  f['nic'] = await tmp.file('nic.xml', nicXml('52:54:00:00:00:01'));
  f['ghost'] = await tmp.file('ghost.xml', nicXml('52:54:00:00:00:99'));
});
after(() => tmp.cleanup());

const session = (commands: string) => virtkit(['-c', 'test:///default?unplugTimeout=50', commands]);

describe('detach --wait', () => {
  it('removed within the wait: virsh\'s success line, exit 0', async () => {
    const r = await session(`define ${f['slow']}; start slow; detach-device slow ${f['nic']} --wait 20; domiflist slow`);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.equal(o[2], 'Device detached successfully');
    assert.doesNotMatch(o[3]!, /52:54:00:00:00:01/);
    assert.equal(r.stderr, '');
  });
  it('still pending after the wait: a timeout error naming the reason; the request stays and is listed', async () => {
    const r = await session(`define ${f['never']}; start never; detach-interface never network --wait 0; pending-devices never; pending-devices never --json`);
    const o = outputs(r.stdout);
    assert.match(r.stderr, /^error: Failed to detach interface\nerror: Timed out during operation: device 'net0' is still pending \(guest-not-acknowledging for \d+\.\d s, request [0-9a-f-]{36}\); the unplug request stays in effect\n$/);
    assert.match(o[3]!, /^ Alias +State +Reason +Age +Since +Request\n-+\n net0 +pending +guest-not-acknowledging +\d+\.\ds +\d{4}-[^ ]+Z +[0-9a-f-]{36}$/);
    const json = JSON.parse(o[4]!) as { alias: string; reason: string }[];
    assert.deepEqual(json.map((p) => [p.alias, p.reason]), [['net0', 'guest-not-acknowledging']]);
    assert.equal(r.code, 0, 'pending-devices, the last command, succeeded');
  });
  it('without --wait but with a contract option: virsh\'s line and a note when pending', async () => {
    const r = await session(`define ${f['never']}; start never; detach-device never ${f['nic']} --resend`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(outputs(r.stdout)[2], 'Device detached successfully');
    assert.match(r.stderr, /^note: device 'net0' is still pending \(guest-not-acknowledging .*see 'virtkit pending-devices'\)\n$/);
  });
  it('a second detach of a pending device does not fail (no second request); --wait on detach-device-alias', async () => {
    const r = await virtkit(['-c', 'test:///default?unplugTimeout=0', `define ${f['slow']}; start slow; detach-device-alias slow net0; detach-device-alias slow net0 --wait 20; domiflist slow`]);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.equal(o[2], 'Device detach request sent successfully');
    assert.equal(o[3], 'Device detached successfully');
  });
  it('--wait takes whole seconds up to an hour', async () => {
    const r = await session(`define ${f['quick']}; start quick; detach-device quick ${f['nic']} --wait -1`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Invalid value for --wait: '-1'/);
    const big = await session(`define ${f['quick']}; start quick; detach-device quick ${f['nic']} --wait 3601`);
    assert.match(big.stderr, /expected seconds from 0 to 3600/);
  });
});

describe('--if-present, --isolate, isolate-device', () => {
  it('--if-present: an absent device is success on every detach command', async () => {
    const r = await session(
      `define ${f['quick']}; start quick; detach-device quick ${f['ghost']} --if-present; detach-disk quick vdz --if-present; detach-interface quick bridge --if-present; detach-device-alias quick net9 --if-present; detach-disk quick vdz`,
    );
    const o = outputs(r.stdout);
    assert.deepEqual(o.slice(2, 6), Array(4).fill('No such device: nothing to detach'));
    assert.equal(r.code, 1, 'without --if-present the last one fails');
  });
  it('--isolate: a device still pending after the wait is cut off (link down), listed pending-until-shutdown', async () => {
    const r = await session(`define ${f['never']}; start never; detach-device never ${f['nic']} --wait 0 --isolate; pending-devices never; dumpxml never`);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.match(o[2]!, /^Device isolated: device 'net0' is cut off from the host/);
    assert.match(o[3]!, / net0 +pending-until-shutdown +guest-not-acknowledging/);
    assert.match(o[4]!, /<link state='down'\/>/);
  });
  it('isolate-device: needs a pending unplug first', async () => {
    const r = await session(`define ${f['never']}; start never; isolate-device never net0; detach-device-alias never net0; isolate-device never net0`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /error: Failed to isolate device net0\nerror: Requested operation is not valid: device 'net0' has no pending unplug/);
    assert.equal(outputs(r.stdout).at(-1), "Device 'net0' isolated: pending until the guest releases it or the domain stops");
  });
});

describe('define --hotplug-slots, persist-device', () => {
  it('reserves root ports on q35, keeps MAC and slot of a device made persistent', async () => {
    const q35 = domainXml('q35').replace("<type arch='x86_64'>hvm</type>", "<type arch='x86_64' machine='q35'>hvm</type>").replace("type='test'", "type='qemu'");
    const file = await tmp.file('q35.xml', q35);
    const r = await session(`define ${file} --hotplug-slots 3; start q35; attach-device q35 ${f['ghost']}; persist-device q35 net1; domiflist q35; domiflist q35 --inactive; persist-device q35 net1; dumpxml q35 --inactive`);
    const o = outputs(r.stdout);
    assert.equal(o[0], `Domain 'q35' defined from ${file}`);
    assert.equal(o[3], "Device 'net1' added to the persistent definition with its MAC and address");
    assert.match(o[4]!, /52:54:00:00:00:99/);
    assert.match(o[5]!, /52:54:00:00:00:99/);
    assert.match(r.stderr, /error: Failed to persist device net1\nerror: Requested operation is not valid: device 'net1' is already in the persistent definition/);
    assert.ok((o.at(-1)!.match(/pcie-root-port/g) ?? []).length >= 4, 'root ports reserved');
    const bad = await session(`define ${file} --hotplug-slots x`);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /hotplug-slots/);
  });
});
