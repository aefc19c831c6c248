/** generation() lets a process notice another process's writes without re-reading everything. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { StateStore } from '../../src/drivers/test/store.js';
import { tempDir, Worker } from './fixtures/helpers.js';

const t = tempDir();
after(t.cleanup);

it('changes after each write committed by another process', async () => {
  const dir = join(t.dir, 'state');
  const store = StateStore.open(dir);
  const w = await Worker.start(dir);
  let last = store.generation();

  const steps: Array<[Record<string, unknown>, (s: StateStore) => unknown, unknown]> = [
    [{ op: 'write-config', name: 'd', xml: '<domain>1</domain>' }, (s) => s.load('d')?.config, '<domain>1</domain>'],
    [{ op: 'write-status', name: 'd', xml: '<domstatus/>' }, (s) => s.load('d')?.status, '<domstatus/>'],
    [{ op: 'write-config', name: 'd', xml: '<domain>2</domain>' }, (s) => s.load('d')?.config, '<domain>2</domain>'],
    [{ op: 'write-driver', state: { nextId: 7 } }, (s) => s.readDriverState().nextId, 7],
    [{ op: 'remove-status', name: 'd' }, (s) => s.load('d')?.status, undefined],
    [{ op: 'remove-config', name: 'd' }, (s) => s.load('d'), undefined],
  ];
  for (const [cmd, look, expected] of steps) {
    await w.call(cmd);
    const now = store.generation();
    assert.notEqual(now, last, `generation unchanged after ${cmd.op}`);
    assert.deepEqual(look(store), expected);
    last = now;
  }

  // Removing what is not there commits nothing.
  await w.call({ op: 'remove-config', name: 'd' });
  assert.equal(store.generation(), last);
  await w.stop();
});
