/** Domain commands through the built CLI: list, define/undefine/create, lifecycle, dumpxml, dominfo, domstate, domid/domuuid/domname. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { domainXml, tempDir, virtkit } from './helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let vm1: string;
let bad: string;
let notDomain: string;
before(async () => {
  tmp = await tempDir();
  vm1 = await tmp.file('vm1.xml', domainXml('vm1'));
  bad = await tmp.file('bad.xml', '<domain type="test"><name>x</name>');
  notDomain = await tmp.file('nic.xml', "<interface type='network'><source network='default'/></interface>");
});
after(() => tmp.cleanup());

/** One invocation running `commands` on a fresh test:///default. */
const session = (commands: string) => virtkit([commands]);

describe('list', () => {
  it("prints virsh's table: running by id, then inactive by name with '-'", async () => {
    const r = await session(`define ${vm1}; list; list --all; list --inactive`);
    assert.equal(r.code, 0);
    const [, active, all, inactive] = r.stdout.split('\n\n');
    assert.equal(active, ' Id   Name   State\n----------------------\n 1    test   running');
    assert.equal(all, ' Id   Name   State\n-----------------------\n 1    test   running\n -    vm1    shut off');
    assert.equal(inactive, ' Id   Name   State\n-----------------------\n -    vm1    shut off');
  });
  it('--name, --uuid, --id and their combinations', async () => {
    const r = await session(`define ${vm1}; list --all --name; list --all --id; list --all --uuid --name`);
    assert.equal(r.code, 0);
    const [, names, ids, uuidNames] = r.stdout.split('\n\n');
    assert.equal(names, 'test\nvm1');
    assert.equal(ids, '1');
    assert.match(uuidNames!, /^[0-9a-f-]{36} test\n[0-9a-f-]{36} vm1$/);
  });
  it('--json for scripts', async () => {
    const r = await virtkit(['list', '--all', '--json']);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), [{ id: 1, name: 'test', uuid: '6695eb01-f6a4-8304-79aa-97f2502e193f', state: 'running' }]);
  });
  it('filters by state and persistence', async () => {
    const r = await session(`create ${vm1} --paused; list --state-paused --name; list --transient --name; list --persistent --name`);
    assert.equal(r.code, 0);
    const [, paused, transient, persistent] = r.stdout.split('\n\n');
    assert.deepEqual([paused, transient, persistent], ['vm1', 'vm1', 'test']);
  });
  it('rejects --table with --name', async () => {
    const r = await virtkit(['list', '--table', '--name']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: Options --table and --name are mutually exclusive/);
  });
});

describe('define, undefine, create', () => {
  it("prints virsh's messages", async () => {
    const r = await session(`define ${vm1} --validate; undefine vm1; create ${vm1}; list --name`);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `Domain 'vm1' defined from ${vm1}\n\nDomain 'vm1' has been undefined\n\nDomain 'vm1' created from ${vm1}\n\ntest\nvm1\n\n`);
  });
  it('bad XML: the context line, then the parser message, exit 1', async () => {
    const r = await virtkit(['define', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^error: Failed to define domain from ${bad}\\nerror: malformed XML`));
    const c = await virtkit(['create', bad]);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /^error: Failed to create domain from .*\nerror: malformed XML/);
  });
  it('XML that is not a domain', async () => {
    const r = await virtkit(['define', notDomain]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: Failed to define domain from .*\nerror: .*domain/);
  });
  it('missing file', async () => {
    const r = await virtkit(['define', '/nonexistent/vm.xml']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: Failed to open file '/nonexistent/vm.xml': No such file or directory\n");
  });
  it('undefine of an unknown domain', async () => {
    const r = await virtkit(['undefine', 'nosuch']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: failed to get domain 'nosuch'\n");
  });
});

describe('start, suspend, resume, shutdown, destroy', () => {
  it('walks the lifecycle with virsh messages', async () => {
    const r = await session(
      `define ${vm1}; start vm1; suspend vm1; domstate vm1 --reason; resume vm1; domstate vm1 --reason; shutdown vm1; domstate vm1; start vm1 --paused; domstate vm1; destroy vm1; domstate vm1 --reason`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        `Domain 'vm1' defined from ${vm1}`,
        "Domain 'vm1' started",
        "Domain 'vm1' suspended",
        'paused (user)',
        "Domain 'vm1' resumed",
        'running (unpaused)',
        "Domain 'vm1' is being shutdown",
        'shut off',
        "Domain 'vm1' started",
        'paused',
        "Domain 'vm1' destroyed",
        'shut off (destroyed)',
        '',
      ].join('\n\n'),
    );
  });
  it('errors: already active, not running, unknown domain', async () => {
    const r = await session(`define ${vm1}; start test; destroy vm1; suspend vm1; resume test; start nosuch`);
    assert.equal(r.code, 1);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines[0], 'error: Domain is already active');
    assert.equal(lines[1], "error: Failed to destroy domain 'vm1'");
    assert.match(lines[2]!, /^error: .*domain is not running/);
    assert.equal(lines[3], "error: Failed to suspend domain 'vm1'");
    assert.equal(lines[5], "error: Failed to resume domain 'test'");
    assert.equal(lines.at(-1), "error: failed to get domain 'nosuch'");
  });
  it('shutdown --mode is checked', async () => {
    const r = await virtkit(['shutdown', 'test', '--mode', 'bogus']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: Unknown mode bogus value/);
  });
});

describe('dumpxml, dominfo, domstate, domid, domuuid, domname', () => {
  it('dumpxml shows live XML, --inactive the definition', async () => {
    const r = await session(`define ${vm1}; start vm1; dumpxml vm1; dumpxml vm1 --inactive`);
    assert.equal(r.code, 0);
    const [, , live, inactive] = r.stdout.split('\n\n');
    assert.match(live!, /^<domain type='test' id='2'>[\s\S]*<alias name='net0'\/>[\s\S]*<\/domain>$/);
    assert.match(inactive!, /^<domain type='test'>/);
    assert.doesNotMatch(inactive!, /<alias/);
  });
  it("dominfo in virsh's layout and as JSON", async () => {
    const r = await virtkit(['dominfo', 'test']);
    assert.equal(r.code, 0);
    assert.match(
      r.stdout,
      /^Id: {13}1\nName: {11}test\nUUID: {11}6695eb01-f6a4-8304-79aa-97f2502e193f\nOS Type: {8}hvm\nState: {10}running\nCPU\(s\): {9}2\n(CPU time: {7}[\d.]+s\n)?Max memory: {5}8388608 KiB\nUsed memory: {4}2097152 KiB\nPersistent: {5}yes\nAutostart: {6}disable\nManaged save: {3}no\n\n$/,
    );
    const j = await virtkit(['dominfo', '1', '--json']);
    const info = JSON.parse(j.stdout);
    assert.equal(info.name, 'test');
    assert.equal(info.state, 'running');
    assert.equal(info.maxMemoryKiB, 8388608);
    assert.equal(info.persistent, true);
  });
  it('dominfo of an inactive domain', async () => {
    const r = await session(`define ${vm1}; dominfo vm1`);
    assert.match(r.stdout, /Id: {13}-\nName: {11}vm1\n[\s\S]*State: {10}shut off\n/);
  });
  it('domid, domuuid, domname convert between id, UUID and name', async () => {
    const r = await session(`define ${vm1}; domid test; domid vm1; domuuid 1; domname 6695eb01-f6a4-8304-79aa-97f2502e193f; domname 1; domstate 1`);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.split('\n\n').slice(1).join('|'), '1|-|6695eb01-f6a4-8304-79aa-97f2502e193f|test|test|running|');
  });
  it('unknown domains fail with exit 1', async () => {
    for (const cmd of ['dumpxml', 'dominfo', 'domstate', 'domid', 'domuuid', 'domname']) {
      const r = await virtkit([cmd, 'nosuch']);
      assert.equal(r.code, 1, cmd);
      assert.equal(r.stderr, "error: failed to get domain 'nosuch'\n", cmd);
    }
  });
});
