/** StateStore in one process: round trips, layout, modes, name checks, lock discipline. */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { StateStore } from '../../src/drivers/test/store.js';
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
    assert.equal(store.generation(), 0);
    assert.equal(store.load('a'), undefined);

    await store.withLock(() => {
      store.writeConfig('b', '<domain><name>b</name></domain>');
      store.writeConfig('a', '<domain><name>a</name></domain>');
      store.writeStatus('a', '<domstatus state="running"/>');
      store.writeStatus('t', '<domstatus transient="yes"/>');
      store.writeDriverState({ nextId: 3, nextVnet: 1, nested: { x: [1, 2] } });
    });

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

    await store.withLock(() => {
      store.removeStatus('a');
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
    await store.withLock(() => {
      for (const n of names) store.writeConfig(n, `<domain><name>${n}</name></domain>`);
    });
    assert.deepEqual(store.loadAll().map((d) => d.name), [...names].sort());
    for (const n of names) assert.equal(store.load(n)?.config, `<domain><name>${n}</name></domain>`);
  });

  it('creates the folder 0700 and every file 0600', async () => {
    const store = fresh();
    await store.withLock(() => {
      store.writeConfig('a', '<domain/>');
      store.writeStatus('a', '<domstatus/>');
      store.writeDriverState({ n: 1 });
      // The lock file exists only while held.
      assert.equal(mode(join(store.dir, 'lock')), 0o600);
    });
    for (const d of ['', 'config', 'status']) assert.equal(mode(join(store.dir, d)), 0o700, `dir ${d}`);
    for (const f of ['config/a.xml', 'status/a.xml', 'driver.json', 'generation']) {
      assert.equal(mode(join(store.dir, f)), 0o600, f);
    }
    assert.equal(existsSync(join(store.dir, 'lock')), false);
    assert.deepEqual(readdirSync(store.dir).sort(), ['config', 'driver.json', 'generation', 'status']);
  });

  it('refuses unsafe names with INVALID_ARG and writes nothing', async () => {
    const store = fresh();
    const bad = ['', '.', '..', 'a/b', '/etc/passwd', '../escape', 'nul\0byte', 'x'.repeat(252)];
    await store.withLock(() => {
      for (const name of bad) {
        for (const op of [
          () => store.writeConfig(name, '<domain/>'),
          () => store.writeStatus(name, '<domstatus/>'),
          () => store.removeConfig(name),
          () => store.removeStatus(name),
          () => store.load(name),
        ]) {
          assert.throws(op, (err: { code?: number }) => err.code === ErrorCode.INVALID_ARG, JSON.stringify(name));
        }
      }
    });
    assert.deepEqual(readdirSync(store.dir).sort(), ['config', 'status']);
    assert.deepEqual(readdirSync(join(store.dir, 'config')), []);
    assert.deepEqual(readdirSync(join(store.dir, 'status')), []);
    assert.equal(store.generation(), 0);
    // The longest name that fits NAME_MAX is fine.
    await store.withLock(() => store.writeConfig('x'.repeat(251), '<domain/>'));
    assert.equal(store.loadAll().length, 1);
  });

  it('bumps the generation on every write, not on a no-op remove', async () => {
    const store = fresh();
    const seen = [store.generation()];
    await store.withLock(() => {
      store.writeConfig('a', '1');
      seen.push(store.generation());
      store.writeStatus('a', '2');
      seen.push(store.generation());
      store.writeDriverState({});
      seen.push(store.generation());
      store.removeConfig('a');
      seen.push(store.generation());
      store.removeConfig('a');
      assert.equal(store.generation(), seen.at(-1));
    });
    assert.equal(new Set(seen).size, seen.length);
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
  it('refuses writes without the lock, including from a callback that outlives it', async () => {
    const store = fresh();
    assert.throws(() => store.writeConfig('a', 'x'), { code: ErrorCode.INTERNAL_ERROR });
    assert.throws(() => store.writeStatus('a', 'x'), { code: ErrorCode.INTERNAL_ERROR });
    assert.throws(() => store.removeConfig('a'), { code: ErrorCode.INTERNAL_ERROR });
    assert.throws(() => store.removeStatus('a'), { code: ErrorCode.INTERNAL_ERROR });
    assert.throws(() => store.writeDriverState({}), { code: ErrorCode.INTERNAL_ERROR });

    let late: Promise<unknown> | undefined;
    await store.withLock(() => {
      late = new Promise((resolve) => setImmediate(resolve)).then(() => store.writeConfig('a', 'x'));
    });
    await assert.rejects(late!, { code: ErrorCode.INTERNAL_ERROR });
    assert.equal(store.load('a'), undefined);
  });

  it('is re-entrant', async () => {
    const store = fresh();
    const result = await store.withLock(async () => {
      await new Promise((r) => setImmediate(r));
      return store.withLock(async () => {
        store.writeConfig('a', '1');
        return store.withLock(() => 42);
      });
    });
    assert.equal(result, 42);
    assert.equal(store.load('a')?.config, '1');
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
