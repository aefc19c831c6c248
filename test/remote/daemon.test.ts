/** The virtkitd binary: command line, socket permissions, TCP on loopback only, clean shutdown. */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { defaultSocket, parseDaemonArgs } from '../../src/daemon/options.js';
import { isLoopback, VirtkitServer } from '../../src/daemon/server.js';
import { remoteProcedures as P } from '../../src/rpc/generated/remote-protocol.js';
import { canConnect, DAEMON_MAIN, freePort, RawClient, run, startDaemonProcess, tempDir } from './helpers.js';

test('the binary listens on a 0600 socket, reports ready, serves, and removes the socket on SIGTERM', async () => {
  const d = await startDaemonProcess(['--ro-socket']);
  try {
    assert.equal(d.ready, `virtkitd ready: unix:${d.socket} unix-ro:${d.socket}-ro`);
    assert.equal(statSync(d.socket).mode & 0o777, 0o600);
    assert.equal(statSync(`${d.socket}-ro`).mode & 0o777, 0o600);
    const c = await RawClient.connect(d.socket);
    c.send({ proc: P.CONNECT_OPEN.proc, serial: 1 }, P.CONNECT_OPEN.args, { name: 'test:///default', flags: 0 });
    assert.equal((await c.reply(1)).header.status, 0);
    c.close();
  } finally {
    assert.equal(await d.stop(), 0);
  }
  assert.equal(existsSync(d.socket), false);
});

test('--socket-mode opens the socket up when asked; a second daemon on the same socket is refused', async () => {
  const d = await startDaemonProcess(['--socket-mode', '0660']);
  try {
    assert.equal(statSync(d.socket).mode & 0o777, 0o660);
    const r = await run(process.execPath, [DAEMON_MAIN, '--socket', d.socket]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /another daemon is listening on /);
  } finally {
    await d.stop();
  }
});

test('a stale socket file left by a killed daemon is replaced', async () => {
  const d = await startDaemonProcess();
  d.child.kill('SIGKILL');
  await new Promise((r) => d.child.once('exit', r));
  assert.equal(existsSync(d.socket), true);
  const again = await startDaemonProcess(['--socket', d.socket]);
  try {
    assert.equal(await canConnect(d.socket), true);
  } finally {
    await again.stop();
    await d.stop(); // the killed one's folder
  }
});

test('TCP: only when asked, only on loopback', async () => {
  const port = await freePort();
  const d = await startDaemonProcess(['--listen', `127.0.0.1:${port}`]);
  try {
    assert.match(d.ready, new RegExp(`tcp:127\\.0\\.0\\.1:${port}`));
    assert.equal(await canConnect({ host: '127.0.0.1', port }), true);
  } finally {
    await d.stop();
  }
  const { dir, cleanup } = tempDir();
  const r = await run(process.execPath, [DAEMON_MAIN, '--socket', join(dir, 's'), '--listen', '0.0.0.0:16509']);
  cleanup();
  assert.equal(r.code, 1);
  assert.match(r.stderr, /refusing to listen on 0\.0\.0\.0: virtkitd's TCP has no authentication/);
  await assert.rejects(VirtkitServer.start({ tcp: { host: '192.168.1.1', port: 1 }, drivers: { defaultUri: 'test:///default' } }), /loopback addresses only/);
});

test('command line: defaults, values and errors', async () => {
  assert.equal(defaultSocket({}, 0), '/run/virtkit/virtkitd-sock');
  assert.equal(defaultSocket({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/virtkit/virtkitd-sock');
  const a = parseDaemonArgs(['--socket', '/tmp/x/s', '--ro-socket', '--listen', '[::1]:16509', '--test-state', '/tmp/st', '-v'], {}, 0);
  assert.equal(a.server.socket, '/tmp/x/s');
  assert.equal(a.server.roSocket, '/tmp/x/s-ro');
  assert.deepEqual(a.server.tcp, { host: '::1', port: 16509 });
  assert.equal(a.server.drivers.testStateDir, '/tmp/st');
  assert.equal(a.logLevel, 'info');
  assert.equal(a.server.socketMode, 0o600);
  assert.throws(() => parseDaemonArgs(['--socket-mode', '777x'], {}, 0), /octal mode/);
  assert.throws(() => parseDaemonArgs(['--listen', 'nohost'], {}, 0), /\[ADDR:\]PORT/);
  assert.deepEqual(parseDaemonArgs(['--listen', '16509'], {}, 0).server.tcp, { host: '127.0.0.1', port: 16509 });
  assert.throws(() => parseDaemonArgs(['--bogus'], {}, 0), /unknown option '--bogus'/);
  assert.throws(() => parseDaemonArgs(['--socket'], {}, 0), /--socket needs a value/);
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost') && !isLoopback('10.0.0.1') && !isLoopback('0.0.0.0'));
  const help = await run(process.execPath, [DAEMON_MAIN, '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--socket PATH/);
  const bad = await run(process.execPath, [DAEMON_MAIN, '--max-clients', '0']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--max-clients expects a number from 1/);
});
