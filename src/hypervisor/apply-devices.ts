/**
 * Declarative devices, applied: a plan's calls in its order (detaches, updates, attaches), each through
 * the driver's own hot-plug call so every rule of the engine holds, stopping at the first failure.
 * Detaches use the hot-plug contract with `ifPresent` (a device that left meanwhile is success, so an
 * interrupted apply can be run again) and report its outcome; a detach still pending is not a failure
 * (its request stays in effect), though an attach that needs its slot or target may then fail.
 */
import type { ApplyOptions, ApplyResult, DevicePlan, OperationResult } from '../shared/declarative.js';
import type { DetachOptions, DetachOutcome } from '../shared/hotplug-contract.js';

/** The hot-plug calls of one domain, as the driver makes them. */
export interface DeviceCalls {
  attach(xml: string, flags: number): Promise<{ alias?: string }>;
  detach(xml: string, flags: number, options: DetachOptions): Promise<DetachOutcome>;
  update(xml: string, flags: number): Promise<void>;
}

function failure(err: unknown): { code: number; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return { code: typeof e.code === 'number' ? e.code : -1, message: typeof e.message === 'string' ? e.message : String(err) };
}

export async function applyPlan(plan: DevicePlan, calls: DeviceCalls, options: ApplyOptions): Promise<ApplyResult> {
  const results: OperationResult[] = [];
  let failed = false;
  for (const op of plan.operations) {
    if (failed) {
      results.push({ operation: op, status: 'skipped' });
      continue;
    }
    try {
      if (op.action === 'attach') {
        const r = await calls.attach(op.xml, op.flags);
        results.push({ operation: op, status: 'done', ...(r.alias ? { alias: r.alias } : {}) });
      } else if (op.action === 'update') {
        await calls.update(op.xml, op.flags);
        results.push({ operation: op, status: 'done' });
      } else {
        const detach: DetachOptions = { ifPresent: true, ...(options.waitMs === undefined ? {} : { waitMs: options.waitMs }) };
        const outcome = await calls.detach(op.xml, op.flags, detach);
        results.push({ operation: op, status: outcome.status, outcome, ...(outcome.alias ? { alias: outcome.alias } : {}) });
      }
    } catch (err) {
      failed = true;
      results.push({ operation: op, status: 'failed', error: failure(err) });
    }
  }
  return { plan, results, ok: !failed };
}
