/**
 * `npm run fuzz -- [--duration S] [--runs N] [--seed N] [--targets a,b] [--batch N] [--bound-ms MS] [--out DIR] [--json]`
 *
 * Fuzzes every target (test/fuzz/all-targets.ts) round-robin in batches, in a child process watched for
 * hangs: a worker silent for --hang-s seconds (default 30; it ticks every 2 s) is killed and the call it
 * was running recorded with its input (the worker notes each call's index in a progress file). Stops after
 * --duration seconds (default 60) or --runs calls. Each failure is shrunk by fast-check and written to
 * --out (default ./fuzz-failures) as JSON with its target, seed and reason as soon as it is found;
 * rerun a batch with --seed N --start-batch B --targets NAME (batch B runs seed N + B). Exit status 1
 * when anything failed.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { emptyStats, type Failure, jsonable, runBatch, type Stats, closeFixture } from './harness.js';
import { targets } from './all-targets.js';

interface Options {
  durationS: number;
  runs: number;
  seed: number;
  targets: string[];
  batch: number;
  boundMs: number;
  hangS: number;
  out: string;
  json: boolean;
  worker: boolean;
  startBatch: number;
  /** Worker only: a file where it keeps "<batch> <call>" of the call in progress (read after a hang). */
  progress: string | undefined;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    return argv[i]!.includes('=') ? argv[i]!.split('=').slice(1).join('=') : argv[i + 1];
  };
  const num = (name: string, dflt: number): number => {
    const v = get(name);
    const n = v === undefined ? dflt : Number(v);
    if (Number.isNaN(n) || n < 0) throw new Error(`--${name} must be a non-negative number`);
    return n;
  };
  const names = targets.map((t) => t.name);
  const chosen = get('targets')?.split(',').filter(Boolean) ?? names;
  for (const c of chosen) if (!names.includes(c)) throw new Error(`unknown target '${c}' (targets: ${names.join(', ')})`);
  return {
    durationS: num('duration', 60),
    runs: num('runs', Number.POSITIVE_INFINITY),
    seed: num('seed', Math.floor(Math.random() * 2 ** 31)),
    targets: chosen,
    batch: num('batch', 200),
    boundMs: num('bound-ms', 1000),
    hangS: num('hang-s', 30),
    out: resolve(get('out') ?? 'fuzz-failures'),
    json: argv.includes('--json'),
    worker: argv.includes('--worker'),
    startBatch: num('start-batch', 0),
    progress: get('progress'),
  };
}

/** Worker: batches until told to stop (stdin closes) or the limits are reached; one JSON line per event. */
async function worker(o: Options): Promise<void> {
  const chosen = targets.filter((t) => o.targets.includes(t.name));
  // Heartbeat: a call stuck in synchronous code stops it, and the supervisor kills this process.
  setInterval(() => console.log('{"event":"tick"}'), 2000).unref();
  const started = Date.now();
  const progressFd = o.progress === undefined ? undefined : openSync(o.progress, 'w');
  let calls = 0;
  for (let b = o.startBatch; ; b++) {
    if (Date.now() - started > o.durationS * 1000 || calls >= o.runs) break;
    const t = chosen[b % chosen.length]!;
    const seed = o.seed + b;
    const n = Math.min(o.batch, o.runs - calls);
    console.log(JSON.stringify({ event: 'start', batch: b, target: t.name, seed }));
    const stats = emptyStats();
    const failure = await runBatch(t, seed, n, stats, o.boundMs, (i) => {
      if (progressFd !== undefined) writeSync(progressFd, `${b} ${i}`.padEnd(24), 0, 'utf8');
    });
    calls += stats.calls;
    console.log(JSON.stringify({ event: 'done', batch: b, target: t.name, seed, stats, failure }));
  }
  await closeFixture();
  if (progressFd !== undefined) closeSync(progressFd);
  console.log(JSON.stringify({ event: 'end' }));
}

function add(into: Stats, s: Stats): void {
  into.calls += s.calls;
  into.ok += s.ok;
  into.virtErrors += s.virtErrors;
  into.protocolErrors += s.protocolErrors;
  into.failures += s.failures;
  into.overBound += s.overBound;
  into.overBoundWall += s.overBoundWall;
  into.maxMs = Math.max(into.maxMs, s.maxMs);
  into.maxCpuMs = Math.max(into.maxCpuMs, s.maxCpuMs);
  for (const [k, v] of Object.entries(s.codes)) into.codes[k] = (into.codes[k] ?? 0) + v;
}

/** Supervisor: runs workers, restarts after a hang, aggregates, writes failures. */
async function supervise(o: Options): Promise<number> {
  const self = fileURLToPath(import.meta.url);
  const total = emptyStats();
  const perTarget: Record<string, Stats> = {};
  const failures: Failure[] = [];
  // Each failure is written (and named on stderr) as soon as it is known: a long campaign stopped early keeps them.
  const record = (f: Failure): void => {
    failures.push(f);
    mkdirSync(o.out, { recursive: true });
    writeFileSync(join(o.out, `${f.target}-seed${f.seed}-${failures.length - 1}.json`), JSON.stringify(f, null, 2));
    if (!o.json) process.stderr.write(`\nFAIL ${f.target} seed ${f.seed}: ${f.reason.split('\n')[0]}\n`);
  };
  const started = Date.now();
  let nextBatch = o.startBatch;
  let remainingRuns = o.runs;
  const progressDir = mkdtempSync(join(tmpdir(), 'virtkit-fuzz-progress-'));
  const progressFile = join(progressDir, 'call');
  for (;;) {
    const left = o.durationS - (Date.now() - started) / 1000;
    if (left <= 0 || remainingRuns <= 0) break;
    const args = ['--import', 'tsx', self, '--worker', '--seed', String(o.seed), '--start-batch', String(nextBatch), '--duration', String(left), '--batch', String(o.batch), '--bound-ms', String(o.boundMs), '--targets', o.targets.join(','), '--progress', progressFile];
    if (Number.isFinite(remainingRuns)) args.push('--runs', String(remainingRuns));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let current: { batch: number; target: string; seed: number } | undefined;
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => child.kill('SIGKILL'), o.hangS * 1000);
    };
    arm();
    const lines = createInterface({ input: child.stdout });
    for await (const line of lines) {
      let msg: { event: string; batch: number; target: string; seed: number; stats?: Stats; failure?: Failure };
      try {
        msg = JSON.parse(line);
      } catch {
        continue; // a stray console line from the code under test
      }
      arm();
      if (msg.event === 'start') current = msg;
      else if (msg.event === 'done') {
        add(total, msg.stats!);
        perTarget[msg.target] ??= emptyStats();
        add(perTarget[msg.target]!, msg.stats!);
        remainingRuns -= msg.stats!.calls;
        if (msg.failure) record(msg.failure);
        nextBatch = msg.batch + 1;
        current = undefined;
        if (!o.json) process.stderr.write(`\r${total.calls.toLocaleString('en-US')} calls, ${failures.length} failures, max ${total.maxMs.toFixed(0)} ms   `);
      } else if (msg.event === 'end') ended = true;
    }
    clearTimeout(timer);
    const code = await new Promise<number | null>((r) => (child.exitCode !== null || child.signalCode !== null ? r(child.exitCode) : child.on('close', r)));
    if (ended) break;
    // Killed (hang) or crashed: record the batch in progress, go on with the next one.
    const where = current ?? { batch: nextBatch, target: '?', seed: o.seed + nextBatch };
    const call = callInProgress(progressFile, where.batch);
    const t = targets.find((x) => x.name === where.target);
    // The input is the call-th one fast-check generates from the batch's seed (fc.sample draws the same).
    const input = t && call !== undefined ? jsonable(fc.sample(t.input, { seed: where.seed, numRuns: call + 1 })[call]) : null;
    const reason = `worker ${code === null ? `made no progress for ${o.hangS} s (hang)` : `exited with ${code}`} in batch ${where.batch}${call === undefined ? '' : `, call ${call}`}`;
    record({ target: where.target, seed: where.seed, reason, input });
    total.failures++;
    nextBatch = where.batch + 1;
  }
  rmSync(progressDir, { recursive: true, force: true });
  if (!o.json) process.stderr.write('\n');
  const summary = { seed: o.seed, seconds: Math.round((Date.now() - started) / 1000), total, perTarget, failures: failures.length, failuresDir: failures.length ? o.out : undefined };
  if (o.json) console.log(JSON.stringify(summary));
  else {
    console.log(`seed ${o.seed}: ${total.calls.toLocaleString('en-US')} calls in ${summary.seconds} s; ${total.ok.toLocaleString('en-US')} returned, ${total.virtErrors.toLocaleString('en-US')} VirtErrors, ${total.protocolErrors.toLocaleString('en-US')} protocol errors (RPC decoders), ${total.failures} failing calls; ${total.overBound} over ${o.boundMs} ms of CPU (max ${total.maxCpuMs.toFixed(1)} ms), ${total.overBoundWall} over ${o.boundMs} ms of wall time (max ${total.maxMs.toFixed(1)} ms)`);
    for (const [name, s] of Object.entries(perTarget)) {
      console.log(`  ${name.padEnd(18)} ${String(s.calls).padStart(9)} calls  max ${s.maxCpuMs.toFixed(1).padStart(7)} ms CPU ${s.maxMs.toFixed(1).padStart(7)} ms wall  ${s.failures} failing`);
    }
    for (const f of failures) console.log(`FAIL ${f.target} seed ${f.seed}: ${f.reason.split('\n')[0]}`);
    if (failures.length) console.log(`minimal failing inputs written to ${o.out}`);
  }
  return failures.length > 0 || total.overBound > 0 ? 1 : 0;
}

/** The call a killed worker was running in `batch`, from its progress file. */
function callInProgress(file: string, batch: number): number | undefined {
  try {
    const [b, i] = readFileSync(file, 'utf8').trim().split(' ').map(Number);
    return b === batch && Number.isInteger(i) ? i : undefined;
  } catch {
    return undefined;
  }
}

const options = parseArgs(process.argv.slice(2));
if (options.worker) await worker(options);
else process.exitCode = await supervise(options);
