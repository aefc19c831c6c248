/**
 * Test hooks for the crash tests: `VIRTKIT_CRASH_AT=<point>[:<n>]` makes this process SIGKILL
 * itself the n-th time (default: first) it reaches that point of a commit, so a test can kill
 * exactly between two writes instead of hoping a random kill lands there; `VIRTKIT_CRASH_TRACE=FILE`
 * appends each point reached to FILE (synchronously), so a test that kills at random can tell
 * whether the kill landed inside a commit. Points, in commit order:
 *
 *   counters-written     driver.json (the name/id reservation) is durable; the domain not yet
 *   record-staged        the new record is written and fsynced under a temp name, not renamed
 *   record-renamed       the record is renamed into place, its folder not yet fsynced
 *   record-committed     the record is durable; the events of the commit not yet appended
 *
 * Without the variable this costs one comparison per point.
 */
import { appendFileSync } from 'node:fs';

const spec = parse(process.env.VIRTKIT_CRASH_AT);
const trace = process.env.VIRTKIT_CRASH_TRACE || undefined;
let reached = 0;

function parse(text: string | undefined): { point: string; n: number } | undefined {
  if (!text) return undefined;
  const m = /^([a-z-]+)(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  return { point: m[1]!, n: Math.max(1, Number(m[2] ?? 1)) };
}

export const CRASH_POINTS = ['counters-written', 'record-staged', 'record-renamed', 'record-committed'] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export function crashPoint(point: CrashPoint): void {
  if (trace !== undefined) appendFileSync(trace, `${point}\n`);
  if (spec === undefined || spec.point !== point) return;
  if (++reached === spec.n) process.kill(process.pid, 'SIGKILL');
}
