/** Issue 11 through the built CLI: `virtkit apply FILE [--dry-run] [--wait SECONDS] [--json]`. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { diskXml, domainXml, nicXml, outputs, tempDir, virtkit } from './helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
const f: Record<string, string> = {};
const grown = (xml: string) => xml.replace('</devices>', `${nicXml('52:54:00:00:00:02')}${diskXml('vdb')}</devices>`);
before(async () => {
  tmp = await tempDir();
  const quick = domainXml('quick');
  f['quick'] = await tmp.file('quick.xml', quick);
  f['grown'] = await tmp.file('grown.xml', grown(quick));
  f['memory'] = await tmp.file('memory.xml', quick.replace("<memory unit='MiB'>256</memory>", "<memory unit='MiB'>512</memory>"));
  const reject = domainXml('reject', { unplug: { ack: 'reject' } });
  f['reject'] = await tmp.file('reject.xml', reject);
  f['reject-grown'] = await tmp.file('reject-grown.xml', grown(reject).replace(/<interface type='network'>\s*<mac address='52:54:00:00:00:01'\/>[\s\S]*?<\/interface>/, ''));
  const never = domainXml('never', { unplug: { ack: 'never' } });
  f['never'] = await tmp.file('never.xml', never);
  f['never-less'] = await tmp.file('never-less.xml', never.replace(/<interface[\s\S]*?<\/interface>/, ''));
  f['other'] = await tmp.file('other.xml', '<domain type="test"><name>nosuch</name></domain>');
});
after(() => tmp.cleanup());

const session = (commands: string) => virtkit(['-c', 'test:///default', commands]);

describe('virtkit apply', () => {
  it('--dry-run prints the plan as a table and changes nothing; apply runs it; a second apply has nothing to do', async () => {
    const r = await session(`define ${f['quick']}; start quick; apply ${f['grown']} --dry-run; domblklist quick; apply ${f['grown']}; domiflist quick; domblklist quick; apply ${f['grown']}`);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.match(o[2]!, /^ Action +Device +Name +Flags +Reason\n-+\n attach +interface +52:54:00:00:00:02 default +live,config +new device\n attach +disk +vdb +live,config +new device$/);
    assert.doesNotMatch(o[3]!, /vdb/, 'dry-run changed nothing');
    assert.match(o[4]!, /^ Action +Device +Name +Flags +Result +Reason\n-+\n attach +interface +52:54:00:00:00:02 default +live,config +done +new device\n attach +disk +vdb +live,config +done +new device$/);
    assert.match(o[5]!, /52:54:00:00:00:02/);
    assert.match(o[6]!, /vdb +\/images\/vdb\.img/);
    assert.equal(o[7], "Domain 'quick': devices already as in " + f['grown']);
    assert.equal(r.stderr, '');
  });

  it('a memory change is listed under Needs restart and not applied (exit 0, a note)', async () => {
    const r = await session(`define ${f['quick']}; start quick; apply ${f['memory']}; dominfo quick`);
    assert.equal(r.code, 0, r.stderr);
    const o = outputs(r.stdout);
    assert.match(o[2]!, /^ Needs restart +Current +Desired +Reason\n-+\n memory +262144 KiB +524288 KiB +cannot change while the domain runs/);
    assert.match(o[3]!, /Max memory: +262144 KiB/);
    assert.match(r.stderr, /^note: 2 change\(s\) need a restart and were not applied\n$/);
  });

  it('a failing call: the table shows failed and skipped, the error names the call, exit 1', async () => {
    const r = await session(`define ${f['reject']}; start reject; apply ${f['reject-grown']} --wait 5`);
    assert.equal(r.code, 1);
    const o = outputs(r.stdout);
    assert.match(o[2]!, /detach +interface +net0 52:54:00:00:00:01 default +live,config +failed +not in the desired XML/);
    assert.match(o[2]!, /attach +disk +vdb +live,config +skipped/);
    assert.match(o[2]!, /attach +interface +52:54:00:00:00:02 default +live,config +skipped/);
    assert.match(r.stderr, /^error: Failed to apply .*reject-grown\.xml: detach interface net0 52:54:00:00:00:01 default: .*rejected by the guest\n$/);
  });

  it('a detach still pending: a note without --wait, a timeout error with --wait', async () => {
    const r = await session(`define ${f['never']}; start never; apply ${f['never-less']}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(outputs(r.stdout)[2]!, /detach +interface +net0 .* +pending \(guest-not-acknowledging\)/);
    assert.match(r.stderr, /^note: device 'net0' is still pending \(guest-not-acknowledging\); the unplug request stays in effect/);
    const w = await session(`define ${f['never']}; start never; apply ${f['never-less']} --wait 0`);
    assert.equal(w.code, 1);
    assert.match(w.stderr, /^error: Timed out during operation: device 'net0' is still pending \(guest-not-acknowledging\); the unplug request stays in effect\n$/);
  });

  it('--json prints the plan or the result; bad --wait and an unknown domain are errors', async () => {
    const r = await session(`define ${f['quick']}; start quick; apply ${f['grown']} --dry-run --json`);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(outputs(r.stdout)[2]!) as { operations: { action: string; flags: number }[]; needsRestart: unknown[] };
    assert.deepEqual(plan.operations.map((op) => [op.action, op.flags]), [['attach', 3], ['attach', 3]]);
    const bad = await session(`define ${f['quick']}; apply ${f['grown']} --wait x`);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /Invalid value for --wait: 'x'/);
    const none = await session(`apply ${f['other']}`);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /failed to get domain 'nosuch'/);
  });
});
