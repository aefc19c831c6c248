/** Atomicity: a writer SIGKILLed at random moments leaves each file wholly old or wholly new. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { StateStore } from '../../src/hypervisor/store/state-store.js';
import { tempDir, Worker } from './fixtures/helpers.js';
import { bigXml } from './fixtures/xml.js';

const SIZE = 1 << 20;
const A = bigXml('A', SIZE);
const B = bigXml('B', SIZE);
const LANES = 2;
const KILLS_PER_LANE = 10;

const t = tempDir();
after(t.cleanup);

/** Small seeded PRNG (mulberry32): random kill moments, reproducible from the printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function lane(dir: string, random: () => number): Promise<{ tempsSeen: number }> {
  let tempsSeen = 0;
  // Each next worker boots while the current one writes: startup dominates the run time.
  let booting = Worker.start(dir);
  for (let k = 0; k < KILLS_PER_LANE; k++) {
    const w = await booting;
    if (k + 1 < KILLS_PER_LANE) booting = Worker.start(dir);
    w.send({ op: 'alternate', name: 'big', size: SIZE });
    // Killing before the first complete write would prove nothing about replacement.
    await w.next((m) => m.writing === true);
    await sleep(random() * 40);
    await w.kill();

    const store = StateStore.open(dir);
    const onDisk = store.load('big')?.config ?? '';
    assert.ok(onDisk === A || onDisk === B, `torn file after kill ${k}: ${onDisk.length} bytes`);
    const all = store.loadAll();
    assert.equal(all.length, 1, `loadAll returned ${all.map((d) => d.name).join(', ')}`);
    assert.equal(all[0]!.name, 'big');
    assert.ok(all[0]!.config === A || all[0]!.config === B);
    tempsSeen += readdirSync(join(dir, 'domains')).filter((f) => f.startsWith('.tmp-')).length;
  }
  return { tempsSeen };
}

it('SIGKILL during writes never leaves a torn config, and leftovers are swept', async (ctx) => {
  const seed = Number(process.env.STORE_CRASH_SEED ?? Date.now() % 1e9);
  ctx.diagnostic(`seed ${seed} (set STORE_CRASH_SEED to replay)`);
  const random = prng(seed);
  const dirs = Array.from({ length: LANES }, (_, i) => join(t.dir, `lane${i}`));
  const results = await Promise.all(dirs.map((d) => lane(d, random)));
  ctx.diagnostic(`kills that left a temp file behind: ${results.map((r) => r.tempsSeen).join(' + ')}`);

  for (const dir of dirs) {
    // The next lock holder breaks the dead writer's lock and removes its temp files.
    const store = StateStore.open(dir);
    await store.withLock(() => {});
    await store.withDomainLock('big', () => {});
    for (const sub of ['', 'domains', 'locks']) {
      const leftovers = readdirSync(join(dir, sub)).filter((f) => f.startsWith('.tmp-') || f === 'lock' || f.includes('.tmp-') || f.includes('.break-'));
      assert.deepEqual(leftovers, [], `leftovers in ${dir}/${sub}`);
    }
  }
});
