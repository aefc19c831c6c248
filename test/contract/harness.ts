/** Runs a contract test once per target driver, each on fresh connections. */
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Connection, type OpenOptions } from '../../src/index.js';
import { type ContractTarget, type Feature, TARGETS } from './targets.js';

/** What a contract test gets: fresh connections to one target and the target's domain adapter. */
export interface Contract {
  target: ContractTarget;
  /** A new connection on the target's pristine state (own `{tmp}` folder); closed and cleaned after the test. */
  open(options?: OpenOptions): Promise<Connection>;
  /** The target's version of a contract domain XML (for `conn`'s folder; by default the most recent `open`'s). */
  domain(xml: string, conn?: Connection): string;
  /** The target's version of a contract device XML (for `conn`'s folder; by default the most recent `open`'s). */
  device(xml: string, conn?: Connection): string;
}

/** The short label of a target in test names: `test:///default?state`. */
export function label(target: ContractTarget): string {
  return target.uri.replace(/=\{tmp\}[^&]*/g, '').replace(/\?$/, '');
}

/**
 * Where `{tmp}` folders go: tmpfs when the machine has one, so the many commits of the contract
 * suite cost no disk flushes (semantics do not depend on the medium; the crash tests in
 * test/store use the real disk). VIRTKIT_CONTRACT_TMP overrides it.
 */
const TMP_ROOT = process.env.VIRTKIT_CONTRACT_TMP ?? (writable('/dev/shm') ? '/dev/shm' : tmpdir());

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function contract(target: ContractTarget, t: TestContext): Contract {
  let lastTmp = '';
  const tmpOf = new WeakMap<Connection, string>();
  const folder = (conn: Connection | undefined): string => (conn ? (tmpOf.get(conn) ?? lastTmp) : lastTmp);
  // Undone last first: connections close, then what `prepare` started stops, then the folder goes.
  const cleanups: (() => unknown)[] = [];
  t.after(async () => {
    for (const undo of cleanups.reverse()) await undo();
  });
  return {
    target,
    async open(options) {
      let uri = target.uri;
      let tmp = '';
      if (uri.includes('{tmp}')) {
        const dir = mkdtempSync(join(TMP_ROOT, 'virtkit-contract-'));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        uri = uri.replaceAll('{tmp}', dir);
        lastTmp = tmp = dir;
      }
      const opts = target.guestAnswerMs !== undefined && options?.unplugTimeoutMs === undefined ? { ...options, unplugTimeoutMs: target.guestAnswerMs } : options;
      if (target.prepare) cleanups.push(await target.prepare(tmp, opts ?? {}));
      const conn = await Connection.open(uri, opts);
      cleanups.push(() => conn.close());
      tmpOf.set(conn, tmp);
      return conn;
    },
    domain(xml, conn) {
      return target.adaptDomain ? target.adaptDomain(xml, folder(conn)) : xml;
    },
    device(xml, conn) {
      return target.adaptDevice ? target.adaptDevice(xml, folder(conn)) : xml;
    },
  };
}

/**
 * A target missing a component: outside CI its tests are skipped with the reason; under CI=true
 * they run and fail with it (never a silent skip).
 */
function missingOptions(target: ContractTarget): { skip?: string } {
  return target.missing !== undefined && process.env.CI !== 'true' ? { skip: target.missing } : {};
}

/** A `when` for tests that need a feature: not declared on targets that lack it (`lacking` tests what those do instead). */
export function requires(feature: Feature): (t: ContractTarget) => boolean {
  return (t) => t.lacks?.[feature] === undefined;
}

/** A `when` for the test of how a target without a feature refuses it. */
export function lacking(feature: Feature): (t: ContractTarget) => boolean {
  return (t) => t.lacks?.[feature] !== undefined;
}

/** Declares `name` once per target whose features `when` accepts (default: all), labelled by target. */
export function contractTest(name: string, fn: (c: Contract) => Promise<void>, when: (t: ContractTarget) => boolean = () => true): void {
  for (const target of TARGETS) {
    if (!when(target)) continue;
    test(`[${label(target)}] ${name}`, missingOptions(target), (t) => {
      if (target.missing !== undefined) throw new Error(`${label(target)} cannot run: ${target.missing}`);
      return fn(contract(target, t));
    });
  }
}
