/**
 * `apply FILE [--dry-run] [--wait SECONDS] [--json]` (virtkit extension): makes the devices of the domain
 * FILE describes (by its <name>) those of FILE with hot-plug calls, printing the plan as a table.
 * Changes no hot-plug call can make are listed as "needs restart" and never applied.
 */
import type { Domain } from '../../api/domain.js';
import { ErrorCode, ErrorDomain, VirtError } from '../../errors.js';
import type { ApplyResult, DevicePlan, OperationResult, PlannedOperation } from '../../shared/declarative.js';
import { DeviceModify } from '../../shared/flags.js';
import { parseXml } from '../../xml/index.js';
import { defineCommand, flag, str } from '../command.js';
import { withContext } from '../errors.js';
import { formatJson } from '../format/json.js';
import { formatTable } from '../format/table.js';
import { fileOption, jsonOption } from './options.js';

/** The longest --wait (one hour, the library's bound). */
const MAX_WAIT_S = 3600;

function usage(message: string): VirtError {
  return new VirtError(ErrorCode.INVALID_ARG, message, { domain: ErrorDomain.NONE });
}

function flagNames(flags: number): string {
  const names: string[] = [];
  if (flags & DeviceModify.LIVE) names.push('live');
  if (flags & DeviceModify.CONFIG) names.push('config');
  return names.join(',') || 'current';
}

function resultText(r: OperationResult): string {
  if (r.status === 'pending' && r.outcome) return `pending (${r.outcome.reason ?? 'guest-not-acknowledging'})`;
  if (r.status === 'removed' && r.outcome?.absent) return 'removed (already gone)';
  return r.status;
}

function planRow(op: PlannedOperation): string[] {
  return [op.action, op.device, op.name, flagNames(op.flags), op.reason];
}

function printPlan(ctx: { out(t: string): void; quiet: boolean }, plan: DevicePlan, results?: OperationResult[]): void {
  if (plan.operations.length > 0) {
    const headers = ['Action', 'Device', 'Name', 'Flags', 'Reason'];
    if (results) {
      const rows = results.map((r) => [...planRow(r.operation).slice(0, 4), resultText(r), r.operation.reason]);
      ctx.out(formatTable([...headers.slice(0, 4), 'Result', 'Reason'], rows, ctx.quiet));
    } else {
      ctx.out(formatTable(headers, plan.operations.map(planRow), ctx.quiet));
    }
  }
  if (plan.needsRestart.length > 0) {
    if (plan.operations.length > 0) ctx.out('\n');
    const rows = plan.needsRestart.map((e) => [e.what, e.current ?? '-', e.desired ?? '-', e.reason]);
    ctx.out(formatTable(['Needs restart', 'Current', 'Desired', 'Reason'], rows, ctx.quiet));
  }
}

/** The <name> of the domain the file describes. */
function domainName(xml: string, file: string): string {
  const root = parseXml(xml, { source: file });
  const name = root.name === 'domain' ? root.childText('name')?.trim() : undefined;
  if (!name) throw new VirtError(ErrorCode.XML_ERROR, `${file} is not a domain definition with a <name>`);
  return name;
}

export const apply = defineCommand({
  name: 'apply',
  group: 'domain',
  summary: 'make the devices of a domain those of an XML file by hot-plug (virtkit extension)',
  description:
    "Compare the domain XML in FILE with the definition(s) of the domain it names and run the attach, detach and update calls that make the devices equal: detaches first, then updates, then attaches, each live and persistent as the domain is; stop at the first failure. Changes no hot-plug call can make (memory, vCPUs, machine type, os, devices that cannot be plugged while running) are listed under 'Needs restart' and never applied. With --dry-run, only print the plan.",
  options: [
    fileOption('file containing the desired XML domain description'),
    { name: 'dry-run', kind: 'bool', help: 'print the plan, change nothing' },
    { name: 'wait', kind: 'number', positional: false, ownNumberCheck: true, help: 'wait up to SECONDS for each detached device to leave; fail if one is still pending' },
    jsonOption,
  ],
  async run(ctx, args) {
    const file = str(args, 'file')!;
    const wait = str(args, 'wait');
    let waitMs: number | undefined;
    if (wait !== undefined) {
      const s = Number(wait);
      if (!Number.isInteger(s) || s < 0 || s > MAX_WAIT_S) throw usage(`Invalid value for --wait: '${wait}' (expected seconds from 0 to ${MAX_WAIT_S})`);
      waitMs = s * 1000;
    }
    const xml = await ctx.readFile(file);
    const name = await withContext(`Failed to read ${file}`, async () => domainName(xml, file));
    const dom: Domain = await ctx.domain(name, { name: true });
    const json = flag(args, 'json');
    if (flag(args, 'dry-run')) {
      const plan = await withContext(`Failed to plan ${file}`, () => dom.planDevices(xml));
      if (json) ctx.out(formatJson(plan));
      else if (plan.operations.length === 0 && plan.needsRestart.length === 0) ctx.info(`Domain '${name}': devices already as in ${file}\n`);
      else printPlan(ctx, plan);
      return;
    }
    const result: ApplyResult = await withContext(`Failed to apply ${file}`, () => dom.applyDevices(xml, waitMs === undefined ? {} : { waitMs }));
    if (json) ctx.out(formatJson(result));
    else if (result.plan.operations.length === 0 && result.plan.needsRestart.length === 0) ctx.info(`Domain '${name}': devices already as in ${file}\n`);
    else printPlan(ctx, result.plan, result.results);
    const failed = result.results.find((r) => r.status === 'failed');
    if (failed) {
      const op = failed.operation;
      throw new VirtError(failed.error?.code ?? ErrorCode.OPERATION_FAILED, `Failed to apply ${file}: ${op.action} ${op.device} ${op.name}: ${failed.error?.message ?? 'failed'}`, { domain: ErrorDomain.NONE });
    }
    const pending = result.results.filter((r) => r.status === 'pending');
    if (pending.length > 0) {
      const what = pending.map((r) => `device '${r.alias ?? r.operation.name}' is still pending (${r.outcome?.reason ?? 'guest-not-acknowledging'})`).join('; ');
      if (waitMs !== undefined) throw new VirtError(ErrorCode.OPERATION_TIMEOUT, `Timed out during operation: ${what}; the unplug request stays in effect`, { domain: ErrorDomain.NONE });
      ctx.note(`note: ${what}; the unplug request stays in effect (see 'virtkit pending-devices')\n`);
    }
    if (result.plan.needsRestart.length > 0) ctx.note(`note: ${result.plan.needsRestart.length} change(s) need a restart and were not applied\n`);
  },
});
