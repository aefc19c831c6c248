/**
 * A full GC must not throw away the optimized code of define and hot-plug (src/shared/keep-shape.ts).
 * V8 frees the hidden class of an object shape no live object has; code optimized against it is
 * deoptimized ("weak objects"), and defines run at a fraction of their speed until V8 optimizes
 * them again. The worker warms both paths up, forces two full GCs with nothing in flight and runs
 * them again; V8's own trace says which functions lost their code. Not a timing test: it counts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { it } from 'node:test';

const run = promisify(execFile);
const WORKER = fileURLToPath(new URL('./fixtures/gc-deopt-worker.mjs', import.meta.url));
const DIST = new URL('../../dist/index.js', import.meta.url).href;
const XML = fileURLToPath(new URL('../../bench/domain.xml', import.meta.url));

it('a full GC between calls leaves the optimized code of define and hot-plug in place', async () => {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--trace-opt', '--trace-deopt', WORKER, DIST, XML, '1500'], {
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const gcAt = stdout.indexOf('=== full GC');
  const afterAt = stdout.indexOf('=== after GC');
  assert.ok(gcAt > 0 && afterAt > gcAt && stdout.includes('=== done'), 'the worker ran to its end');
  // Optimizations finished on V8's compiler thread up to the GC count as before it (a loaded host is slow to finish them).
  const before = stdout.slice(0, afterAt);
  const after = stdout.slice(gcAt);
  // The check can fail only if there was optimized code to lose.
  const optimized = new Set([...before.matchAll(/completed (?:optimizing|compiling) [^<]*<JSFunction ([^ >]+)/g)].map((m) => m[1]));
  for (const fn of ['element', 'normalize', 'peekNamed', 'placePiix3', 'planAttach', 'runDetach']) {
    assert.ok(optimized.has(fn), `V8 optimized ${fn} during the warm-up (optimized: ${[...optimized].slice(0, 40).join(', ')}…)`);
  }
  const lost = [...after.matchAll(/<SharedFunctionInfo ([^>]*)>.*reason: weak objects/g)].map((m) => m[1]);
  assert.deepEqual(lost, [], `functions deoptimized because a GC freed what their code relied on: ${lost.join(', ')}`);
});
