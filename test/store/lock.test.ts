/** Cross-process locking of a state folder: serialisation, waiting, stale locks, timeout. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StateStore } from '../../src/hypervisor/store/state-store.js';
import { ErrorCode } from '../../src/errors.js';
import { tempDir, Worker } from './fixtures/helpers.js';

const t = tempDir();
after(t.cleanup);
let seq = 0;
const newDir = () => join(t.dir, `s${seq++}`);

/** The pid of a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

function lockOwnerPid(dir: string): number {
  return Number(readFileSync(join(dir, 'lock'), 'utf8').split(' ')[0]);
}

function assertNoLockLeftovers(dir: string): void {
  assert.deepEqual(
    readdirSync(dir).filter((f) => f === 'lock' || f.startsWith('lock.') || f.startsWith('.tmp-')),
    [],
  );
}

async function incrementInWorkers(dir: string, workers: number, each: number): Promise<void> {
  const ws = await Promise.all(Array.from({ length: workers }, () => Worker.start(dir)));
  // Start them all at once, for maximum contention.
  await Promise.all(ws.map((w) => w.call({ op: 'increment', n: each })));
  await Promise.all(ws.map((w) => w.stop()));
}

describe('cross-process lock', () => {
  it('serialises read-modify-write across 4 processes (4 x 50 increments = 200)', async () => {
    const dir = newDir();
    await incrementInWorkers(dir, 4, 50);
    assert.equal(StateStore.open(dir).readDriverState().count, 200);
    assertNoLockLeftovers(dir);
  });

  it('makes a second process wait for a live holder', async () => {
    const dir = newDir();
    const log = join(t.dir, `order-${seq}.log`);
    writeFileSync(log, '');
    const a = await Worker.start(dir);
    const b = await Worker.start(dir);
    a.send({ op: 'hold', file: log, text: 'A releases\n' });
    await a.next((m) => m.locked === true);

    b.send({ op: 'locked-append', file: log, text: 'B holds\n' });
    // B reports whom it is waiting for before A is told to let go: ordering, not timing.
    const waiting = await b.next((m) => m.waiting !== undefined);
    assert.equal(waiting.waiting, a.pid);
    assert.equal(readFileSync(log, 'utf8'), '');

    a.send({ op: 'release' });
    await b.next((m) => m.op === 'locked-append');
    assert.equal(readFileSync(log, 'utf8'), 'A releases\nB holds\n');
    await Promise.all([a.stop(), b.stop()]);
  });

  it("a domain's lock holds back that domain only, not the folder or other domains", async () => {
    const dir = newDir();
    const log = join(t.dir, `domains-${seq}.log`);
    writeFileSync(log, '');
    const a = await Worker.start(dir);
    const b = await Worker.start(dir);
    a.send({ op: 'hold-domain', name: 'one', file: log, text: 'A releases one\n' });
    await a.next((m) => m.locked === true);
    // Another domain and the folder lock are free while 'one' is held...
    await b.call({ op: 'domain-locked-append', name: 'two', file: log, text: 'B has two\n' });
    await b.call({ op: 'locked-append', file: log, text: 'B has the folder\n' });
    // ... while 'one' itself waits for A.
    b.send({ op: 'domain-locked-append', name: 'one', file: log, text: 'B has one\n' });
    const waiting = await b.next((m) => m.waiting !== undefined);
    assert.equal(waiting.waiting, a.pid);
    a.send({ op: 'release' });
    await b.next((m) => m.op === 'domain-locked-append');
    assert.equal(readFileSync(log, 'utf8'), 'B has two\nB has the folder\nA releases one\nB has one\n');
    await Promise.all([a.stop(), b.stop()]);
  });

  it('times out with OPERATION_TIMEOUT naming the live holder', async () => {
    const dir = newDir();
    const a = await Worker.start(dir);
    a.send({ op: 'hold' });
    await a.next((m) => m.locked === true);
    const store = StateStore.open(dir, { lockTimeoutMs: 150 });
    await assert.rejects(store.withLock(() => assert.fail('must not run')), (err: Error & { code?: number }) => {
      assert.equal(err.code, ErrorCode.OPERATION_TIMEOUT);
      assert.equal(err.message, `timed out waiting for the state lock on ${store.dir} (held by pid ${a.pid})`);
      return true;
    });
    a.send({ op: 'release' });
    await a.stop();
  });
});

describe('stale locks', () => {
  it('breaks the lock of a holder killed while holding it', async () => {
    const dir = newDir();
    const a = await Worker.start(dir);
    a.send({ op: 'hold' });
    await a.next((m) => m.locked === true);
    await a.kill();
    assert.equal(lockOwnerPid(dir), a.pid, 'the dead holder left its lock behind');

    const store = StateStore.open(dir, { lockTimeoutMs: 5000 });
    await store.withLock(() => store.writeDriverState({ after: true }));
    assert.deepEqual(store.readDriverState(), { after: true });
    assertNoLockLeftovers(dir);
  });

  it("breaks a domain's lock of a holder killed while holding it", async () => {
    const dir = newDir();
    const a = await Worker.start(dir);
    a.send({ op: 'hold-domain', name: 'vm' });
    await a.next((m) => m.locked === true);
    await a.kill();
    assert.equal(readdirSync(join(dir, 'locks')).length, 1, 'the dead holder left its lock behind');
    const store = StateStore.open(dir, { lockTimeoutMs: 5000 });
    await store.withDomainLock('vm', () => store.writeConfig('vm', '<domain/>'));
    assert.equal(store.load('vm')?.config, '<domain/>');
    assert.deepEqual(readdirSync(join(dir, 'locks')), []);
  });

  it('lets exactly one of several racing waiters break a stale lock', async () => {
    const dir = newDir();
    StateStore.open(dir);
    writeFileSync(join(dir, 'lock'), `${await deadPid()} 0123456789abcdef -\n`);
    await incrementInWorkers(dir, 4, 10);
    const store = StateStore.open(dir);
    assert.equal(store.readDriverState().count, 40);
    await store.withLock(() => {});
    assertNoLockLeftovers(dir);
  });

  it('recovers from a breaker that died holding its break guard', async () => {
    const dir = newDir();
    StateStore.open(dir);
    const dead = await deadPid();
    writeFileSync(join(dir, 'lock'), `${dead} 0123456789abcdef -\n`);
    writeFileSync(join(dir, 'lock.break-0123456789abcdef'), `${dead} fedcba9876543210 -\n`);
    writeFileSync(join(dir, `lock.tmp-${dead}-00112233445566ff`), `${dead} 00112233445566ff -\n`);
    const store = StateStore.open(dir, { lockTimeoutMs: 5000 });
    await store.withLock(() => store.writeDriverState({ ok: true }));
    assert.deepEqual(store.readDriverState(), { ok: true });
    assertNoLockLeftovers(dir);
  });

  it('treats a lock carrying our own pid but not our token as stale (recycled pid)', async () => {
    const dir = newDir();
    StateStore.open(dir);
    writeFileSync(join(dir, 'lock'), `${process.pid} 0123456789abcdef -\n`);
    const store = StateStore.open(dir, { lockTimeoutMs: 5000 });
    assert.equal(await store.withLock(() => 'ok'), 'ok');
    assertNoLockLeftovers(dir);
  });

  it('leaves alone, at release, a lock file that is no longer its own', async () => {
    const dir = newDir();
    const store = StateStore.open(dir, { lockTimeoutMs: 5000 });
    const lock = join(dir, 'lock');
    const other = `${process.pid} fedcba9876543210 -\n`;
    await store.withLock(() => {
      // Someone broke it and took it meanwhile: the name now holds another file.
      unlinkSync(lock);
      writeFileSync(lock, other);
    });
    assert.equal(readFileSync(lock, 'utf8'), other);
    // Even a byte-for-byte copy of the lock it took is another file.
    let copy = '';
    await store.withLock(() => {
      copy = readFileSync(lock, 'utf8');
      unlinkSync(lock);
      writeFileSync(lock, copy);
    });
    assert.equal(readFileSync(lock, 'utf8'), copy);
  });

  it('treats an old lock file with unreadable content as stale', async () => {
    const dir = newDir();
    StateStore.open(dir);
    writeFileSync(join(dir, 'lock'), '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'lock'), old, old);
    const store = StateStore.open(dir, { lockTimeoutMs: 5000 });
    assert.equal(await store.withLock(() => 'ok'), 'ok');
    assert.equal(existsSync(join(dir, 'lock')), false);
  });
});
