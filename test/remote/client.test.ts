/**
 * virtkit's remote driver: the public API over the wire, against virtkitd (unix and TCP) and against
 * a real libvirtd (its test driver), with hot-plug outcomes derived from the live XML and events.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Connection, DeviceModify, DomainState, DomainXML, ErrorCode, isVirtError } from '../../src/index.js';
import { parseUri } from '../../src/drivers/registry.js';
import { remoteTarget, shQuote, sshRemoteCommand } from '../../src/drivers/remote/uri.js';
import { domainXml, rejectsWith } from '../core/helpers.js';
import { freePort, type InProcessDaemon, type Libvirtd, missingPeers, startInProcess, startLibvirtd, startSshd, unavailable } from './helpers.js';

const nic = (mac: string) => `<interface type='network'><mac address='${mac}'/><source network='default'/><model type='virtio'/></interface>`;
const slowGuest = (ms: number) => `<vkt:unplug xmlns:vkt='urn:virtkit:test' ack='delay' delay-ms='${ms}'/>`;

describe('remote driver against virtkitd', () => {
  let d: InProcessDaemon;
  let port: number;
  before(async () => {
    port = await freePort();
    d = await startInProcess({ tcp: { host: '127.0.0.1', port }, drivers: { defaultUri: 'test:///default', unplugTimeoutMs: 300 } });
  });
  after(() => d.stop());
  const uri = () => `test+unix:///default?socket=${d.socket}`;

  test('connection facts and lookups', async () => {
    const conn = await Connection.open(uri());
    assert.equal(conn.getURI(), uri());
    assert.equal(conn.getType(), 'Test');
    assert.equal(typeof (await conn.getHostname()), 'string');
    const [test1] = await conn.listAllDomains();
    assert.equal(test1!.name, 'test');
    assert.equal((await conn.lookupByID(1)).name, 'test');
    assert.equal((await conn.lookupByUUID(test1!.uuid)).name, 'test');
    assert.equal((await conn.lookup('test')).uuid, test1!.uuid);
    await rejectsWith(conn.lookupByName('nosuch'), ErrorCode.NO_DOMAIN, /^Domain not found: no domain with matching name 'nosuch'$/);
    await conn.close();
    await assert.rejects(conn.listAllDomains(), (e: unknown) => isVirtError(e) && e.code === ErrorCode.INVALID_CONN);
  });

  test('lifecycle and reading state over the wire', async () => {
    const conn = await Connection.open(uri());
    const dom = await conn.defineXML(domainXml({ name: 'life' }));
    assert.equal(await dom.isPersistent(), true);
    assert.equal(await dom.isActive(), false);
    assert.equal(await dom.getOSType(), 'hvm');
    assert.equal(await dom.getAutostart(), false);
    assert.equal(await dom.hasManagedSaveImage(), false);
    await dom.createWithFlags(1); // PAUSED
    assert.deepEqual(await dom.getState(), { state: DomainState.PAUSED, reason: 1 });
    assert.ok((await dom.getID()) > 0);
    await dom.resume();
    const info = await dom.getInfo();
    assert.equal(info.state, DomainState.RUNNING);
    assert.equal(info.maxMem, 131072);
    assert.match(await dom.getXMLDesc(), /<domain type='qemu' id='\d+'>/);
    assert.doesNotMatch(await dom.getXMLDesc(DomainXML.INACTIVE), /<domain [^>]*id='/);
    await dom.suspend();
    await dom.shutdown();
    await rejectsWith(dom.destroy(), ErrorCode.OPERATION_INVALID, /domain is not running/);
    await dom.undefine();
    const t = await conn.createXML(domainXml({ name: 'transient' }));
    assert.equal(await t.isPersistent(), false);
    await t.destroy();
    await rejectsWith(conn.lookupByName('transient'), ErrorCode.NO_DOMAIN);
    await rejectsWith(conn.defineXML('<domain>'), ErrorCode.XML_DETAIL);
    await conn.close();
  });

  test('hot-plug: alias of an attach, removed/pending of a detach, as over the embedded driver', async () => {
    const conn = await Connection.open(uri());
    const dom = await conn.defineXML(domainXml({ name: 'hp' }));
    await dom.create();
    const a = await dom.attachDeviceFlags(nic('52:54:00:00:00:11'), DeviceModify.LIVE | DeviceModify.CONFIG);
    assert.deepEqual(a, { alias: 'net0' });
    assert.deepEqual(await dom.attachDevice(nic('52:54:00:00:00:12')), { alias: 'net1' });
    assert.deepEqual(await dom.attachDeviceFlags(nic('52:54:00:00:00:13'), DeviceModify.CONFIG), {});
    const live = await dom.getXMLDesc();
    const dumped = live.match(/<interface[\s\S]*?52:54:00:00:00:11[\s\S]*?<\/interface>/)![0];
    assert.deepEqual(await dom.detachDeviceFlags(dumped, DeviceModify.LIVE | DeviceModify.CONFIG), { outcome: 'removed', alias: 'net0' });
    assert.deepEqual(await dom.detachDeviceFlags(nic('52:54:00:00:00:13'), DeviceModify.CONFIG), { outcome: 'removed' });
    assert.deepEqual(await dom.detachDeviceAlias('net1'), { outcome: 'removed', alias: 'net1' });
    await rejectsWith(dom.detachDevice(nic('52:54:00:00:00:99')), ErrorCode.DEVICE_MISSING, /matching MAC address '52:54:00:00:00:99'/);
    await rejectsWith(dom.attachDevice(`<interface type='user'><mac address='bad'/></interface>`), ErrorCode.XML_ERROR, /unable to parse mac address 'bad'/);
    await dom.destroy();
    await dom.undefine();
    await conn.close();
  });

  test('a slow guest: detach is pending, then device-removed arrives as an event', async () => {
    const conn = await Connection.open(uri());
    const stream = conn.events({ types: ['device-removed', 'device-added'] });
    await stream.ready;
    const dom = await conn.defineXML(domainXml({ name: 'slow', metadata: slowGuest(800), devices: nic('52:54:00:00:00:21') }));
    await dom.create();
    const r = await dom.detachDevice(nic('52:54:00:00:00:21'));
    assert.deepEqual(r, { outcome: 'pending', alias: 'net0' });
    assert.match(await dom.getXMLDesc(), /52:54:00:00:00:21/);
    const { value } = await stream.next();
    assert.equal(value?.type, 'device-removed');
    assert.equal(value?.type === 'device-removed' && value.alias, 'net0');
    assert.doesNotMatch(await dom.getXMLDesc(), /52:54:00:00:00:21/);
    // detachDeviceAlias never waits: pending until the guest answers.
    const added = await dom.attachDevice(nic('52:54:00:00:00:22'));
    assert.equal((await stream.next()).value?.type, 'device-added');
    assert.deepEqual(await dom.detachDeviceAlias(added.alias!), { outcome: 'pending', alias: added.alias });
    const gone = await stream.next();
    assert.equal(gone.value?.type === 'device-removed' && gone.value.alias, added.alias);
    await stream.return?.();
    await dom.destroy();
    await dom.undefine();
    await conn.close();
  });

  test('events: lifecycle through on(), unsubscribing deregisters on the server', async () => {
    const conn = await Connection.open(uri());
    const seen: string[] = [];
    const off = await conn.on('lifecycle', (e) => {
      seen.push(`${e.domain.name}:${e.event}:${e.detail}`);
    });
    const dom = await conn.defineXML(domainXml({ name: 'ev' }));
    await dom.create();
    await dom.destroy();
    const deadline = Date.now() + 3000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(seen, ['ev:0:0', 'ev:2:0', 'ev:5:1']);
    await off();
    await dom.undefine();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen.length, 3);
    await conn.close();
  });

  test('TCP transport on loopback', async () => {
    const conn = await Connection.open(`test+tcp://127.0.0.1:${port}/default`);
    assert.ok((await conn.listAllDomains()).some((dom) => dom.name === 'test'));
    await conn.close();
  });

  test('the daemon going away fails pending and later calls with libvirt\'s end-of-file error', async () => {
    const own = await startInProcess();
    const conn = await Connection.open(`test+unix:///default?socket=${own.socket}`);
    await own.stop();
    await assert.rejects(conn.listAllDomains(), (e: unknown) => isVirtError(e) && e.code === ErrorCode.SYSTEM_ERROR && /^(End of file while reading data|Cannot write data: Broken pipe)/.test(e.message));
    await conn.close();
  });

  test('unreachable daemons: libvirt-style connect errors', async () => {
    await assert.rejects(Connection.open(`test+unix:///default?socket=${d.dir}/nothing`), (e: unknown) => isVirtError(e) && e.code === ErrorCode.SYSTEM_ERROR && /^Failed to connect socket to '.*\/nothing': No such file or directory$/.test(e.message));
    const closedPort = await freePort();
    await assert.rejects(Connection.open(`test+tcp://127.0.0.1:${closedPort}/default`), /unable to connect to server at '127\.0\.0\.1:\d+': Connection refused/);
    await assert.rejects(Connection.open('qemu+tls://example.org/system'), /transport 'tls' is not supported/);
  });
});

test('remote URIs: what is opened on the far side and how it is reached', () => {
  const t = (uri: string) => remoteTarget(uri, parseUri(uri), { XDG_RUNTIME_DIR: '/run/user/7' });
  assert.deepEqual(t('qemu+unix:///system'), { transport: { kind: 'unix', path: '/run/libvirt/libvirt-sock' }, openName: 'qemu:///system' });
  assert.deepEqual(t('qemu+unix:///session'), { transport: { kind: 'unix', path: '/run/user/7/libvirt/libvirt-sock' }, openName: 'qemu:///session' });
  assert.deepEqual(t('test:///default?socket=/tmp/s'), { transport: { kind: 'unix', path: '/tmp/s' }, openName: 'test:///default' });
  assert.deepEqual(t('qemu+tcp://host.example/system'), { transport: { kind: 'tcp', host: 'host.example', port: 16509 }, openName: 'qemu:///system' });
  assert.deepEqual(t('qemu+tcp://[::1]:1234/system?foo=bar'), { transport: { kind: 'tcp', host: '::1', port: 1234 }, openName: 'qemu:///system?foo=bar' });
  const ssh = t('qemu+ssh://admin@hv1:2222/system?keyfile=/k/id&no_verify=1&socket=/run/virtkit/virtkitd-sock');
  assert.equal(ssh.openName, 'qemu:///system');
  assert.deepEqual(ssh.transport.kind === 'ssh' && ssh.transport.argv.slice(0, -1), ['-p', '2222', '-l', 'admin', '-i', '/k/id', '-T', '-e', 'none', '-o', 'StrictHostKeyChecking=no', '--', 'hv1']);
  assert.equal(ssh.transport.kind === 'ssh' && ssh.transport.argv.at(-1), sshRemoteCommand('netcat', 'nc', '/run/virtkit/virtkitd-sock', 'qemu:///system'));
  const auto = t('qemu+ssh://hv1/system');
  assert.match(auto.transport.kind === 'ssh' ? auto.transport.argv.at(-1)! : '', /^sh -c 'which virt-ssh-helper .*virt-ssh-helper '\\''qemu:\/\/\/system'\\''.*-U '\\''\/run\/libvirt\/libvirt-sock'\\''; fi'$/);
  assert.throws(() => t('qemu+ssh://-oProxyCommand=x/system'), /invalid host name/);
  assert.throws(() => t("qemu+ssh://a'b@hv1/system"), /invalid user name/);
  assert.throws(() => t('qemu+ssh://hv1/system?proxy=other'), /unknown proxy 'other'/);
  assert.throws(() => t('qemu+unix://host/system'), /takes no host name/);
  assert.equal(shQuote("it's"), `'it'\\''s'`);
});

const noLibvirtd = missingPeers(['libvirtd']);
if (noLibvirtd) {
  unavailable('remote driver against libvirtd', noLibvirtd);
} else {
  describe('remote driver against a real libvirtd (test driver)', () => {
    let lv: Libvirtd;
    before(async () => {
      lv = await startLibvirtd({ tcpPort: await freePort() });
    });
    after(() => lv.stop());

    test('the public API over unix and TCP, errors with libvirt\'s codes and words', async () => {
      for (const uri of [`test+unix:///default?socket=${lv.socket}`, `test+tcp://127.0.0.1:${lv.tcpPort}/default`]) {
        const conn = await Connection.open(uri);
        assert.equal(conn.getType(), 'TEST');
        const stream = conn.events({ types: ['lifecycle'] });
        await stream.ready;
        const dom = await conn.defineXML(`<domain type='test'><name>lv1</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>`);
        assert.equal((await conn.lookupByName('lv1')).uuid, dom.uuid);
        assert.ok((await conn.listAllDomains()).some((d) => d.name === 'lv1'));
        await dom.create();
        assert.equal((await dom.getState()).state, DomainState.RUNNING);
        assert.match(await dom.getXMLDesc(), /<name>lv1<\/name>/);
        await dom.suspend();
        await dom.resume();
        // libvirt's test driver has no hot-plug: its error reaches the caller unchanged.
        await rejectsWith(dom.attachDevice(nic('52:54:00:00:00:31')), ErrorCode.NO_SUPPORT, /^this function is not supported by the connection driver: virDomainAttachDeviceFlags$/);
        await dom.destroy();
        await dom.undefine();
        await rejectsWith(conn.lookupByName('lv1'), ErrorCode.NO_DOMAIN, /^Domain not found/);
        const kinds: number[] = [];
        for (let i = 0; i < 6; i++) {
          const { value } = await stream.next();
          if (value?.type === 'lifecycle') kinds.push(value.event);
        }
        assert.deepEqual(kinds, [0, 2, 3, 4, 5, 1]);
        await stream.return?.();
        await conn.close();
      }
    });
  });
}

const noSsh = missingPeers(['sshd']);
if (noSsh) {
  unavailable('remote driver over ssh', noSsh);
} else {
  test('+ssh: the system ssh client, a real sshd, nc -U on the far side, events included', async () => {
    const [d, sshd] = await Promise.all([startInProcess(), startSshd()]);
    try {
      const q = new URLSearchParams({ keyfile: sshd.keyfile, no_verify: '1', no_tty: '1', known_hosts: sshd.knownHosts, socket: d.socket });
      const conn = await Connection.open(`test+ssh://${sshd.user}@127.0.0.1:${sshd.port}/default?${q}`);
      assert.equal(conn.getType(), 'Test');
      const stream = conn.events({ types: ['device-added'] });
      await stream.ready;
      const dom = await conn.defineXML(domainXml({ name: 'overssh' }));
      await dom.create();
      assert.deepEqual(await dom.attachDevice(nic('52:54:00:00:00:41')), { alias: 'net0' });
      const { value } = await stream.next();
      assert.equal(value?.type === 'device-added' && value.alias, 'net0');
      await stream.return?.();
      await dom.destroy();
      await dom.undefine();
      await conn.close();
      // A wrong key: ssh fails, and its words reach the caller.
      const bad = new URLSearchParams({ keyfile: `${sshd.keyfile}.pub`, no_verify: '1', no_tty: '1', known_hosts: sshd.knownHosts, socket: d.socket });
      await assert.rejects(Connection.open(`test+ssh://${sshd.user}@127.0.0.1:${sshd.port}/default?${bad}`), /End of file while reading data: Input\/output error: .*(Permission denied|Load key)/s);
    } finally {
      await Promise.all([d.stop(), sshd.stop()]);
    }
  });
}
