/** Which URI the CLI connects to: libvirt's order, libvirt.conf's uri_default and uri_aliases, the `connect` command. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { libvirtConfPath, parseLibvirtConf, resolveUri, type UriEnvironment } from '../../src/cli/uri.js';
import { virtkit } from './helpers.js';

let home: string;
before(async () => {
  home = await mkdtemp(join(tmpdir(), 'virtkit-uri-test-'));
});
after(() => rm(home, { recursive: true, force: true }));

/** A non-root user whose libvirt.conf (under XDG_CONFIG_HOME) holds `conf`. */
async function user(env: Record<string, string>, conf?: string): Promise<UriEnvironment> {
  const xdg = join(home, `cfg-${Math.random().toString(36).slice(2)}`);
  if (conf !== undefined) {
    await mkdir(join(xdg, 'libvirt'), { recursive: true });
    await writeFile(join(xdg, 'libvirt', 'libvirt.conf'), conf);
  }
  return { env: { XDG_CONFIG_HOME: xdg, ...env }, uid: 1000, home };
}

describe('resolveUri', () => {
  it("follows libvirt's order: option, VIRSH_DEFAULT_CONNECT_URI, LIBVIRT_DEFAULT_URI, uri_default, VIRTKIT_DEFAULT_URI, test:///default", async () => {
    const all = {
      VIRSH_DEFAULT_CONNECT_URI: 'test:///default?unplugTimeout=1',
      LIBVIRT_DEFAULT_URI: 'test:///default?unplugTimeout=2',
      VIRTKIT_DEFAULT_URI: 'test:///default?unplugTimeout=4',
    };
    const conf = 'uri_default = "test:///default?unplugTimeout=3"\n';
    assert.deepEqual(await resolveUri('qemu:///system', await user(all, conf)), { uri: 'qemu:///system', source: 'option' });
    assert.deepEqual(await resolveUri(undefined, await user(all, conf)), { uri: all.VIRSH_DEFAULT_CONNECT_URI, source: 'VIRSH_DEFAULT_CONNECT_URI' });
    const { VIRSH_DEFAULT_CONNECT_URI: _v, ...noVirsh } = all;
    assert.deepEqual(await resolveUri(undefined, await user(noVirsh, conf)), { uri: all.LIBVIRT_DEFAULT_URI, source: 'LIBVIRT_DEFAULT_URI' });
    const { LIBVIRT_DEFAULT_URI: _l, ...onlyVirtkit } = noVirsh;
    assert.deepEqual(await resolveUri(undefined, await user(onlyVirtkit, conf)), { uri: 'test:///default?unplugTimeout=3', source: 'uri_default' });
    assert.deepEqual(await resolveUri(undefined, await user(onlyVirtkit)), { uri: all.VIRTKIT_DEFAULT_URI, source: 'VIRTKIT_DEFAULT_URI' });
    assert.deepEqual(await resolveUri(undefined, await user({})), { uri: 'test:///default', source: 'builtin' });
  });
  it('ignores empty variables, as libvirt does', async () => {
    const e = await user({ VIRSH_DEFAULT_CONNECT_URI: '', LIBVIRT_DEFAULT_URI: 'qemu:///session' });
    assert.deepEqual(await resolveUri(undefined, e), { uri: 'qemu:///session', source: 'LIBVIRT_DEFAULT_URI' });
  });
  it('replaces a uri_aliases name by its URI, whichever step named it', async () => {
    const conf = `# aliases
uri_aliases = [
  "hail=qemu+ssh://root@hail.example.com/system",
  'sleet=test:///default?unplugTimeout=9',
]
uri_default = "sleet"
`;
    assert.equal((await resolveUri('hail', await user({}, conf))).uri, 'qemu+ssh://root@hail.example.com/system');
    assert.equal((await resolveUri(undefined, await user({}, conf))).uri, 'test:///default?unplugTimeout=9');
    assert.equal((await resolveUri('test:///default', await user({}, conf))).uri, 'test:///default');
    await assert.rejects(resolveUri('x', await user({}, 'uri_aliases = ["bad name=test:///default"]')), /aliases may only contain/);
  });
  it("reads root's config from /etc/libvirt, a user's from XDG_CONFIG_HOME or ~/.config", () => {
    assert.equal(libvirtConfPath({ env: {}, uid: 0, home: '/root' }), '/etc/libvirt/libvirt.conf');
    assert.equal(libvirtConfPath({ env: {}, uid: 1000, home: '/home/u' }), '/home/u/.config/libvirt/libvirt.conf');
    assert.equal(libvirtConfPath({ env: { XDG_CONFIG_HOME: '/x' }, uid: 1000, home: '/home/u' }), '/x/libvirt/libvirt.conf');
  });
  it("parses libvirt's conf syntax and names the line of a mistake", () => {
    const conf = parseLibvirtConf('# c\nuri_default = "a"  # trailing\nn = 5\nl = [ "x", \'y\' ]\n');
    assert.deepEqual([...conf], [['uri_default', 'a'], ['n', 5], ['l', ['x', 'y']]]);
    assert.throws(() => parseLibvirtConf('a = "x"\nb = \n'), /libvirt\.conf:3: expecting a value/);
    assert.throws(() => parseLibvirtConf('a "x"'), /expecting an assignment/);
  });
});

describe('URIs in the CLI', () => {
  it('LIBVIRT_DEFAULT_URI is honoured and a bad one fails each command that needs a connection', async () => {
    const ok = await virtkit(['uri'], { env: { LIBVIRT_DEFAULT_URI: 'test:///default?unplugTimeout=7' } });
    assert.equal(ok.stdout, 'test:///default?unplugTimeout=7\n\n');
    const bad = await virtkit(['echo hi; uri; echo bye; list'], { env: { LIBVIRT_DEFAULT_URI: 'bogus:///x' } });
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, 'hi\n\nbye\n\n');
    assert.equal(bad.stderr.match(/^error: failed to connect to the hypervisor$/gm)?.length, 2);
  });
  it('VIRSH_DEFAULT_CONNECT_URI wins over LIBVIRT_DEFAULT_URI; -c, --connect, --conn and -cURI over both', async () => {
    const env = { VIRSH_DEFAULT_CONNECT_URI: 'test:///default?unplugTimeout=1', LIBVIRT_DEFAULT_URI: 'bogus:///x' };
    assert.equal((await virtkit(['uri'], { env })).stdout, 'test:///default?unplugTimeout=1\n\n');
    for (const argv of [['-c', 'test:///default?unplugTimeout=5'], ['--connect', 'test:///default?unplugTimeout=5'], ['--conn=test:///default?unplugTimeout=5'], ['-ctest:///default?unplugTimeout=5']]) {
      assert.equal((await virtkit([...argv, 'uri'], { env })).stdout, 'test:///default?unplugTimeout=5\n\n', argv.join(' '));
    }
  });
  it('uri_default in the user config', async () => {
    const e = await user({}, 'uri_default = "test:///default?unplugTimeout=3"\n');
    const r = await virtkit(['uri'], { env: { XDG_CONFIG_HOME: e.env['XDG_CONFIG_HOME']!, HOME: home } });
    // Root reads /etc/libvirt/libvirt.conf instead, which this test must not touch.
    if (process.geteuid?.() !== 0) assert.equal(r.stdout, 'test:///default?unplugTimeout=3\n\n');
    else assert.equal(r.code, 0);
  });
  it("connect: switches, reconnects, and keeps the old connection when the new one fails", async () => {
    const r = await virtkit(['-c', 'test:///default?unplugTimeout=1', 'connect test:///default?unplugTimeout=2; uri; connect bogus:///x; uri; connect; uri']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '\ntest:///default?unplugTimeout=2\n\n\ntest:///default?unplugTimeout=2\n\n\ntest:///default?unplugTimeout=2\n\n');
    assert.match(r.stderr, /^error: failed to connect to the hypervisor\nerror: .*bogus/);
  });
});
