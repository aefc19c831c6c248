/**
 * The property every target must hold: the call returns, or throws a VirtError with a libvirt error
 * code (for the RPC decoders: the protocol's FrameError or XdrError), within the time bound (CPU time of the call; wall time up to 10x), and when it throws, every
 * definition is as it was (dumps compared).
 * fast-check drives the inputs (seeded, so every run is reproducible) and shrinks a failure to a
 * minimal input.
 */
import fc from 'fast-check';
import { isVirtError } from '../../src/index.js';
import { type FuzzTarget, type Fixture, openFixture, snapshot } from './targets.js';

/** libvirt's error codes run from 1 to VIR_ERR_NUMBER_LAST - 1 (109 in libvirt 9.0). */
const MAX_LIBVIRT_CODE = 109;

export interface Stats {
  calls: number;
  ok: number;
  virtErrors: number;
  /** The documented non-VirtError failures of targets below the API (the RPC decoders' FrameError/XdrError). */
  protocolErrors: number;
  /** Non-VirtError throws, bad codes, state changed on error, unhandled rejections. */
  failures: number;
  /** Calls whose CPU time passed the bound (the property), and calls whose wall time did (context: machine load). */
  overBound: number;
  overBoundWall: number;
  /** Slowest call: wall time, and CPU time of this process during a call. */
  maxMs: number;
  maxCpuMs: number;
  /** Error codes seen, with counts. */
  codes: Record<string, number>;
}

export interface Failure {
  target: string;
  seed: number;
  reason: string;
  /** The shrunk counterexample (JSON-able form). */
  input: unknown;
}

export function emptyStats(): Stats {
  return { calls: 0, ok: 0, virtErrors: 0, protocolErrors: 0, failures: 0, overBound: 0, overBoundWall: 0, maxMs: 0, maxCpuMs: 0, codes: {} };
}

let fixture: Fixture | undefined;
/** The fixture's dump while nothing changed it (a failed call must leave it exactly so). */
let clean = '';
let dirty = true;

async function freshFixture(): Promise<Fixture> {
  if (fixture && !dirty) return fixture;
  await fixture?.conn.close().catch(() => undefined);
  fixture = await openFixture();
  clean = await snapshot(fixture);
  dirty = false;
  return fixture;
}

// Rejections nobody handled (a timer or listener failing after its call returned) fail the property too.
let strays: unknown[] = [];
process.on('unhandledRejection', (r) => strays.push(r));

/** One call: undefined when the property holds, else why not. */
async function check<T>(t: FuzzTarget<T>, input: T, stats: Stats, boundMs: number): Promise<string | undefined> {
  const fx = await freshFixture();
  strays = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let error: unknown;
  let threw = false;
  try {
    await t.call(input, fx);
  } catch (err) {
    threw = true;
    error = err;
  }
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu0);
  const cpuMs = (used.user + used.system) / 1000;
  stats.calls++;
  if (ms > stats.maxMs) stats.maxMs = ms;
  if (cpuMs > stats.maxCpuMs) stats.maxCpuMs = cpuMs;
  if (ms > boundMs) stats.overBoundWall++;
  // The bound is on the CPU a call costs (other processes on a shared machine stretch wall time); a wall
  // time ten times the bound fails too, for calls that wait instead of working.
  const tooSlow = cpuMs > boundMs || ms > 10 * boundMs;
  if (tooSlow) stats.overBound++;
  let problem: string | undefined;
  if (!threw) {
    stats.ok++;
    if (t.stateful) dirty = true;
  } else if (!isVirtError(error)) {
    const name = t.protocolError?.(error);
    if (name !== undefined) {
      stats.protocolErrors++;
      stats.codes[name] = (stats.codes[name] ?? 0) + 1;
    } else problem = `threw a non-VirtError: ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`;
  } else {
    stats.virtErrors++;
    stats.codes[error.codeName] = (stats.codes[error.codeName] ?? 0) + 1;
    if (!Number.isInteger(error.code) || error.code < 1 || error.code > MAX_LIBVIRT_CODE) problem = `VirtError with code ${error.code}, not libvirt's`;
    else if (t.stateful && (await snapshot(fx)) !== clean) {
      problem = `state changed although the call failed (${error.codeName}: ${error.message})`;
      dirty = true;
    }
  }
  await new Promise((r) => setImmediate(r));
  if (!problem && strays.length > 0) problem = `unhandled rejection after the call: ${String(strays[0])}`;
  if (!problem && tooSlow) problem = `took ${cpuMs.toFixed(0)} ms of CPU, ${ms.toFixed(0)} ms of wall time (bound ${boundMs} ms)`;
  if (problem) stats.failures++;
  return problem;
}

/**
 * Runs `numRuns` inputs of one target from `seed`; a failure is shrunk and returned. `beforeCall`
 * hears the index of each generated input before its call (shrinking steps are not counted), so a
 * call that never returns can be named: it is `fc.sample(t.input, { seed, numRuns: i + 1 })[i]`.
 */
export async function runBatch(t: FuzzTarget, seed: number, numRuns: number, stats: Stats, boundMs: number, beforeCall?: (i: number) => void): Promise<Failure | undefined> {
  let lastProblem = '';
  let generated = 0;
  let shrinking = false;
  const result = await fc.check(
    fc.asyncProperty(t.input, async (input) => {
      if (!shrinking) beforeCall?.(generated++);
      const problem = await check(t, input, stats, boundMs);
      if (problem) {
        shrinking = true;
        lastProblem = problem;
      }
      return problem === undefined;
    }),
    // Shrinking stops after a minute: the input found by then is small enough to read.
    { seed, numRuns, endOnFailure: false, interruptAfterTimeLimit: 60_000 },
  );
  if (!result.failed) return undefined;
  return { target: t.name, seed, reason: lastProblem, input: jsonable(result.counterexample?.[0]) };
}

/** A counterexample in a form JSON can hold (bytes as base64, symbols and functions named). */
export function jsonable(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bytesBase64: Buffer.from(v).toString('base64') };
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol' || typeof v === 'function') return String(v);
  if (Array.isArray(v)) return v.map(jsonable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]));
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

export async function closeFixture(): Promise<void> {
  await fixture?.conn.close().catch(() => undefined);
  fixture = undefined;
  dirty = true;
}
