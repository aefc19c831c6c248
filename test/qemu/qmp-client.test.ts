/** The QMP client against a real QEMU (`-machine none`, no guest): handshake, ids, errors, events, timeouts, QEMU going away. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { ErrorCode, isVirtError } from '../../src/index.js';
import { QmpClient, QmpCommandError } from '../../src/drivers/qemu/qmp/client.js';
import { QEMU, qemuTestOptions, type SpawnedQemu, spawnQemu } from './helpers.js';

const opts = qemuTestOptions();

describe('QMP client', opts, () => {
  let vm: SpawnedQemu;
  let qmp: QmpClient;
  before(async () => {
    vm = spawnQemu(['-machine', 'none', '-accel', 'tcg', '-S']);
    qmp = await QmpClient.connect(vm.monitor, { timeoutMs: 10_000 });
  });
  after(async () => {
    qmp?.close();
    await vm?.kill();
  });

  test('greets, negotiates capabilities and answers typed commands', async () => {
    assert.equal(qmp.greeting?.QMP.version.qemu.major !== undefined, true);
    const status = await qmp.execute('query-status');
    assert.deepEqual([status.status, status.running], ['prelaunch', false]);
    const v = await qmp.execute('query-version');
    assert.deepEqual(v.qemu, qmp.greeting?.QMP.version.qemu);
  });

  test('matches concurrent replies to their commands by id', async () => {
    const [status, target, kvm, version] = await Promise.all([
      qmp.execute('query-status'),
      qmp.execute('query-target'),
      qmp.execute('query-kvm'),
      qmp.execute('query-version'),
    ]);
    assert.equal(status.status, 'prelaunch');
    assert.equal(target.arch, 'x86_64');
    assert.equal(typeof kvm.present, 'boolean');
    assert.equal(typeof version.package, 'string');
  });

  test("QEMU's errors become QmpCommandError (a VirtError) with QEMU's class and libvirt's wording", async () => {
    await assert.rejects(qmp.executeRaw('no-such-command'), (err: unknown) => {
      assert.ok(err instanceof QmpCommandError);
      assert.ok(isVirtError(err, ErrorCode.INTERNAL_ERROR));
      assert.equal(err.qmpClass, 'CommandNotFound');
      assert.match(err.message, /^internal error: unable to execute QEMU command 'no-such-command': The command no-such-command has not been found$/);
      return true;
    });
    await assert.rejects(qmp.execute('device_del', { id: 'nothing' }), (err: unknown) => {
      assert.ok(err instanceof QmpCommandError);
      assert.equal(err.qmpClass, 'DeviceNotFound');
      return true;
    });
    // The connection stays usable after errors.
    assert.equal((await qmp.execute('query-status')).status, 'prelaunch');
  });

  test('events arrive through the async iterator and one-shot waiters', async () => {
    const it = qmp.events((e) => e.event === 'RESUME' || e.event === 'STOP');
    const resumed = qmp.waitForEvent((e) => e.event === 'RESUME', { timeoutMs: 5000 });
    await qmp.execute('cont');
    assert.equal((await resumed)?.event, 'RESUME');
    await qmp.execute('stop');
    assert.equal((await it.next()).value?.event, 'RESUME');
    const stop = (await it.next()).value;
    assert.equal(stop?.event, 'STOP');
    assert.equal(typeof stop?.timestamp?.seconds, 'number');
    await it.return?.();
    assert.equal((await it.next()).done, true);
    // A waiter that never matches ends with undefined at its timeout.
    assert.equal(await qmp.waitForEvent((e) => e.event === 'NEVER', { timeoutMs: 50 }), undefined);
  });

  test('a command QEMU does not answer in time fails with OPERATION_TIMEOUT; the late reply is ignored', async () => {
    const pid = vm.proc.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await assert.rejects(qmp.execute('query-status', undefined, { timeoutMs: 150 }), (err: unknown) => {
        assert.ok(isVirtError(err, ErrorCode.OPERATION_TIMEOUT));
        assert.match(err.message, /'query-status' within 150 ms/);
        return true;
      });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    assert.equal((await qmp.execute('query-target')).arch, 'x86_64');
  });
});

describe('QMP client when QEMU goes away', opts, () => {
  test('commands in flight fail at once with a VirtError; later commands too; iterators end', async () => {
    const vm = spawnQemu(['-machine', 'none', '-accel', 'tcg', '-S']);
    try {
      const qmp = await QmpClient.connect(vm.monitor);
      const it = qmp.events();
      process.kill(vm.proc.pid!, 'SIGSTOP');
      const inFlight = qmp.execute('query-status', undefined, { timeoutMs: 60_000 });
      const started = Date.now();
      process.kill(vm.proc.pid!, 'SIGKILL');
      await assert.rejects(inFlight, (err: unknown) => {
        assert.ok(isVirtError(err, ErrorCode.OPERATION_FAILED));
        assert.match(err.message, /QEMU monitor|End of file/);
        assert.match(err.message, /while executing 'query-status'/);
        return true;
      });
      assert.ok(Date.now() - started < 5000, 'failed without waiting for the timeout');
      assert.equal(qmp.isOpen, false);
      await assert.rejects(qmp.execute('query-status'), (err: unknown) => isVirtError(err, ErrorCode.OPERATION_FAILED));
      assert.equal((await it.next()).done, true);
    } finally {
      await vm.kill();
    }
  });

  test("'quit' is answered, then the connection closes", async () => {
    const vm = spawnQemu(['-machine', 'none', '-accel', 'tcg', '-S']);
    try {
      const qmp = await QmpClient.connect(vm.monitor);
      const shutdown = qmp.waitForEvent((e) => e.event === 'SHUTDOWN', { timeoutMs: 5000 });
      assert.deepEqual(await qmp.execute('quit'), {});
      assert.equal((await shutdown)?.data?.reason, 'host-qmp-quit');
      const reason = await qmp.closed;
      assert.ok(isVirtError(reason, ErrorCode.OPERATION_FAILED));
    } finally {
      await vm.kill();
    }
  });

  test('connecting to a socket nobody creates fails with OPERATION_FAILED after the timeout', async () => {
    await assert.rejects(QmpClient.connect('/nonexistent/virtkit-qmp.sock', { timeoutMs: 100 }), (err: unknown) => {
      assert.ok(isVirtError(err, ErrorCode.OPERATION_FAILED));
      assert.match(err.message, /cannot connect to QEMU monitor '\/nonexistent\/virtkit-qmp\.sock'/);
      return true;
    });
  });

  test('speaks QMP over a child process stdio', async () => {
    const child = spawn(QEMU, ['-machine', 'none', '-accel', 'tcg', '-S', '-nodefaults', '-display', 'none', '-qmp', 'stdio'], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    try {
      const { Duplex } = await import('node:stream');
      const qmp = await QmpClient.handshake(Duplex.from({ readable: child.stdout!, writable: child.stdin! }));
      assert.equal((await qmp.execute('query-target')).arch, 'x86_64');
      await qmp.execute('quit');
      await new Promise((r) => child.once('exit', r));
      await qmp.closed;
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
