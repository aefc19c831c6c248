/**
 * The fuzz harness in CI: a fixed seed and a fixed number of calls per target (so every run checks
 * the same inputs), through the same runner as `npm run fuzz`, in a child process watched for hangs.
 * The property: every call returns or throws a VirtError with a libvirt code, within 1 s of CPU (and
 * 10 s of wall time, for a machine busy with QEMU guests), and a failed call changes nothing. Long campaigns: `npm run fuzz -- --duration 600`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('./run.ts', import.meta.url));
const SEED = 20_260_101;
const CALLS = 4_800; // 300 per target (16 targets)

test(`fuzz: ${CALLS} calls from seed ${SEED}, every one a result or a VirtError, within 1 s, no change on error`, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'virtkit-fuzz-failures-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const child = spawn(process.execPath, ['--import', 'tsx', RUN, '--seed', String(SEED), '--runs', String(CALLS), '--batch', '100', '--duration', '240', '--out', out, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
    total: { calls: number; failures: number; overBound: number; maxMs: number; maxCpuMs: number };
    failures: number;
    failuresDir?: string;
  };
  assert.equal(summary.total.calls, CALLS, 'every planned call ran');
  assert.equal(summary.failures, 0, `failing inputs written to ${summary.failuresDir}`);
  assert.equal(summary.total.overBound, 0, `max ${summary.total.maxCpuMs} ms of CPU, ${summary.total.maxMs} ms of wall time`);
  assert.equal(code, 0);
});
