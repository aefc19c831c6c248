/** StateStore in one process: round trips, layout, modes, name checks, lock discipline, migration of 0.1 folders. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StateStore } from '../../src/hypervisor/store/state-store.js';
import { ErrorCode } from '../../src/errors.js';
import { tempDir } from './fixtures/helpers.js';

const dirs: Array<() => void> = [];
after(() => {
  for (const cleanup of dirs) cleanup();
});
function fresh(): StateStore {
  const t = tempDir();
  dirs.push(t.cleanup);
  return StateStore.open(join(t.dir, 'state'));
}
const mode = (path: string) => statSync(path).mode & 0o777;

describe('StateStore round trip', () => {
  it('stores config, status and driver state, and unions them in loadAll', async () => {
    const store = fresh();
    assert.deepEqual(store.loadAll(), []);
    assert.deepEqual(store.readDriverState(), {});
    assert.equal(store.isEmpty(), true);
    assert.equal(store.load('a'), undefined);

    await store.withDomainLock('b', () => store.writeConfig('b', '<domain><name>b</name></domain>'));
    await store.withDomainLock('a', () => {
      store.writeConfig('a', '<domain><name>a</name></domain>');
      store.writeStatus('a', '<domstatus state="running"/>');
    });
    await store.withDomainLock('t', () => store.writeStatus('t', '<domstatus transient="yes"/>'));
    await store.withLock(() => store.writeDriverState({ nextId: 3, nextVnet: 1, nested: { x: [1, 2] } }));
    assert.equal(store.isEmpty(), false);

    assert.deepEqual(store.loadAll(), [
      { name: 'a', config: '<domain><name>a</name></domain>', status: '<domstatus state="running"/>' },
      { name: 'b', config: '<domain><name>b</name></domain>' },
      { name: 't', status: '<domstatus transient="yes"/>' },
    ]);
    assert.deepEqual(store.load('t'), { name: 't', status: '<domstatus transient="yes"/>' });
    assert.deepEqual(store.readDriverState(), { nextId: 3, nextVnet: 1, nested: { x: [1, 2] } });

    // A second store on the same folder sees the same thing: the state is on disk.
    const again = StateStore.open(store.dir);
    assert.deepEqual(again.loadAll(), store.loadAll());

    await store.withDomainLock('a', () => store.removeStatus('a'));
    await store.withDomainLock('t', () => {
      store.removeConfig('t'); // absent: no error
      store.removeStatus('t');
    });
    assert.deepEqual(
      store.loadAll().map((d) => d.name),
      ['a', 'b'],
    );
    assert.equal(store.load('a')?.status, undefined);
  });

  it('keeps non-ASCII and odd-but-legal names intact', async () => {
    const store = fresh();
    const names = ['ünï cødé', '.hidden', 'a..b', '-dash', 'x.xml', '.tmp-1-abcdefabcdef'];
    for (const n of names) await store.withDomainLock(n, () => store.writeConfig(n, `<domain><name>${n}</name></domain>`));
    assert.deepEqual(store.loadAll().map((d) => d.name), [...names].sort());
    for (const n of names) assert.equal(store.load(n)?.config, `<domain><name>${n}</name></domain>`);
  });

  it('creates the folder 0700 and every file 0600', async () => {
    const store = fresh();
    await store.withDomainLock('a', () => {
      store.writeConfig('a', '<domain/>');
      store.writeStatus('a', '<domstatus/>');
      // A domain's lock file exists only while held.
      assert.equal(readdirSync(join(store.dir, 'locks')).length, 1);
      for (const f of readdirSync(join(store.dir, 'locks'))) assert.equal(mode(join(store.dir, 'locks', f)), 0o600);
    });
    await store.withLock(() => {
      store.writeDriverState({ n: 1 });
      // The lock file exists only while held.
      assert.equal(mode(join(store.dir, 'lock')), 0o600);
    });
    for (const d of ['', 'domains', 'locks']) assert.equal(mode(join(store.dir, d)), 0o700, `dir ${d}`);
    for (const f of ['domains/a.state', 'driver.json']) assert.equal(mode(join(store.dir, f)), 0o600, f);
    assert.equal(existsSync(join(store.dir, 'lock')), false);
    assert.deepEqual(readdirSync(join(store.dir, 'locks')), []);
    assert.deepEqual(readdirSync(store.dir).sort(), ['domains', 'driver.json', 'locks']);
  });

  it('refuses unsafe names with INVALID_ARG and writes nothing', async () => {
    const store = fresh();
    const bad = ['', '.', '..', 'a/b', '/etc/passwd', '../escape', 'nul\0byte', 'x'.repeat(250)];
    for (const name of bad) {
      await assert.rejects(store.withDomainLock(name, () => assert.fail('must not run')), { code: ErrorCode.INVALID_ARG });
      assert.throws(() => store.load(name), (err: { code?: number }) => err.code === ErrorCode.INVALID_ARG, JSON.stringify(name));
    }
    assert.deepEqual(readdirSync(store.dir).sort(), ['domains', 'locks']);
    assert.deepEqual(readdirSync(join(store.dir, 'domains')), []);
    // The longest name that fits NAME_MAX is fine.
    const longest = 'x'.repeat(249);
    await store.withDomainLock(longest, () => store.writeConfig(longest, '<domain/>'));
    assert.equal(store.loadAll().length, 1);
  });

  it('keeps config and status of a domain in one record, replaced in one step', async () => {
    const store = fresh();
    await store.withDomainLock('a', () => store.commitDomain('a', { config: '<domain>1</domain>', status: '<domstatus>1</domstatus>' }));
    assert.deepEqual(readdirSync(join(store.dir, 'domains')), ['a.state']);
    assert.deepEqual(store.load('a'), { name: 'a', config: '<domain>1</domain>', status: '<domstatus>1</domstatus>' });
    await store.withDomainLock('a', () => store.commitDomain('a', { config: '<domain>2</domain>' }));
    assert.deepEqual(store.load('a'), { name: 'a', config: '<domain>2</domain>' });
    await store.withDomainLock('a', () => store.commitDomain('a', {}));
    assert.equal(store.load('a'), undefined);
    assert.deepEqual(readdirSync(join(store.dir, 'domains')), []);
  });

  it('reports a record it did not write as READ_FAILED', () => {
    const store = fresh();
    writeFileSync(join(store.dir, 'domains', 'odd.state'), 'virtkit-domain 1 config=99 status=0\n<domain/>');
    assert.throws(() => store.load('odd'), { code: ErrorCode.READ_FAILED });
  });

  it('folds a folder written by virtkit 0.1 (config/, status/, generation) into records', async () => {
    const store = fresh();
    mkdirSync(join(store.dir, 'config'));
    mkdirSync(join(store.dir, 'status'));
    writeFileSync(join(store.dir, 'config', 'a.xml'), '<domain><name>a</name></domain>');
    writeFileSync(join(store.dir, 'status', 'a.xml'), '<domstatus/>');
    writeFileSync(join(store.dir, 'config', 'b.xml'), '<domain><name>b</name></domain>');
    writeFileSync(join(store.dir, 'generation'), '7\n');
    assert.equal(await store.withLock(() => store.migrateLegacy()), 2);
    assert.deepEqual(store.loadAll(), [
      { name: 'a', config: '<domain><name>a</name></domain>', status: '<domstatus/>' },
      { name: 'b', config: '<domain><name>b</name></domain>' },
    ]);
    assert.deepEqual(readdirSync(store.dir).sort(), ['domains', 'locks']);
    assert.equal(await store.withLock(() => store.migrateLegacy()), 0);
  });

  it('reports a corrupt driver.json as READ_FAILED', () => {
    const store = fresh();
    writeFileSync(join(store.dir, 'driver.json'), '{"oops"');
    assert.throws(() => store.readDriverState(), { code: ErrorCode.READ_FAILED });
    writeFileSync(join(store.dir, 'driver.json'), '[1]');
    assert.throws(() => store.readDriverState(), { code: ErrorCode.READ_FAILED });
  });

  it('refuses a state path that is a file', () => {
    const t = tempDir();
    dirs.push(t.cleanup);
    writeFileSync(join(t.dir, 'file'), '');
    assert.throws(() => StateStore.open(join(t.dir, 'file')), { code: ErrorCode.SYSTEM_ERROR });
  });
});

describe('StateStore lock discipline in one process', () => {
  it('refuses writes without the right lock, including from a callback that outlives it', async () => {
    const store = fresh();
    assert.throws(() => store.writeConfig('a', 'x'), { code: ErrorCode.INTERNAL_ERROR });
    assert.throws(() => store.writeStatus('a', 'x'), { code: ErrorCode.INTERNAL_ERROR });
    assert.throws(() => store.removeConfig('a'), { code: ErrorCode.INTERNAL_ERROR });
    assert.throws(() => store.removeStatus('a'), { code: ErrorCode.INTERNAL_ERROR });
    assert.throws(() => store.writeDriverState({}), { code: ErrorCode.INTERNAL_ERROR });
    // The folder lock does not stand in for a domain's lock, nor one domain's for another's.
    await store.withLock(() => assert.throws(() => store.writeConfig('a', 'x'), /without holding the lock of domain 'a'/));
    await store.withDomainLock('b', () => assert.throws(() => store.writeConfig('a', 'x'), { code: ErrorCode.INTERNAL_ERROR }));
    await store.withDomainLock('b', () => assert.throws(() => store.writeDriverState({}), { code: ErrorCode.INTERNAL_ERROR }));

    let late: Promise<unknown> | undefined;
    await store.withDomainLock('a', () => {
      late = new Promise((resolve) => setImmediate(resolve)).then(() => store.writeConfig('a', 'x'));
    });
    await assert.rejects(late!, { code: ErrorCode.INTERNAL_ERROR });
    assert.equal(store.load('a'), undefined);
  });

  it('is re-entrant', async () => {
    const store = fresh();
    const result = await store.withDomainLock('a', async () => {
      await new Promise((r) => setImmediate(r));
      return store.withLock(async () => {
        store.writeConfig('a', '1');
        return store.withDomainLock('a', () => store.withLock(() => 42));
      });
    });
    assert.equal(result, 42);
    assert.equal(store.load('a')?.config, '1');
  });

  it('a fresh caller queues behind a holder whose context it inherited (a callback it created)', async () => {
    const store = fresh();
    const order: string[] = [];
    let release!: () => void;
    let fromCallback: Promise<void> | undefined;
    const holder = store.withDomainLock('a', async () => {
      // A callback created here (like a monitor socket's events) runs in this call's context.
      const fire = new Promise<void>((r) => {
        release = r;
      });
      setImmediate(() => {
        fromCallback = store.withDomainLock('a', () => {
          order.push('callback');
          store.writeConfig('a', 'callback');
        }, { fresh: true });
      });
      await new Promise((r) => setTimeout(r, 20));
      order.push('holder');
      store.writeConfig('a', 'holder');
      release();
      await fire;
    });
    await holder;
    await fromCallback;
    assert.deepEqual(order, ['holder', 'callback']);
    assert.equal(store.load('a')?.config, 'callback');
  });

  it('serialises concurrent callers across awaits, also across stores on one folder', async () => {
    const store = fresh();
    // Same folder reached through a symlink: must share the queue, not deadlock on the file lock.
    const link = `${store.dir}-link`;
    symlinkSync(store.dir, link);
    const other = StateStore.open(link);
    const increment = (s: StateStore) =>
      s.withLock(async () => {
        const n = Number(s.readDriverState().count ?? 0);
        await new Promise((r) => setImmediate(r));
        s.writeDriverState({ count: n + 1 });
      });
    await Promise.all(Array.from({ length: 40 }, (_, i) => increment(i % 2 ? store : other)));
    assert.equal(store.readDriverState().count, 40);
  });

  it('releases the lock when fn throws', async () => {
    const store = fresh();
    await assert.rejects(
      store.withLock(() => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(existsSync(join(store.dir, 'lock')), false);
    assert.equal(await store.withLock(() => 'ok'), 'ok');
  });
});

describe('leftovers of a process killed while taking a domain lock', () => {
  it('are removed the first time this process holds that lock, though no stale lock was left to break', async () => {
    // The lock file's name for domain 'big', learnt on one folder.
    const first = fresh();
    let lockName = '';
    await first.withDomainLock('big', () => {
      lockName = readdirSync(join(first.dir, 'locks'))[0]!;
    });
    // On a folder this process never opened, a dead process's temp file for that lock (the kill came
    // after writing it, before it became the lock).
    const t = tempDir();
    dirs.push(t.cleanup);
    const dir = join(t.dir, 'state');
    const store = StateStore.open(dir);
    await store.withLock(() => {});
    const deadPid = spawnSync('true').pid!;
    const leftover = `${lockName}.tmp-${deadPid}-0123456789abcdef`;
    writeFileSync(join(dir, 'locks', leftover), `${deadPid} token 0\n`);
    await store.withLock(() => {});
    assert.ok(existsSync(join(dir, 'locks', leftover)), 'the folder lock judges only its own leftovers');
    await store.withDomainLock('big', () => {});
    assert.deepEqual(readdirSync(join(dir, 'locks')), []);
  });
});
