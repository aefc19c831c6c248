/**
 * virtkit's hot-plug contract on the detach commands (virtkit extensions; without them each command
 * is virsh's): `--wait SECONDS` succeeds only when the device is gone within that time,
 * `--if-present` makes an absent device success, `--resend` sends a second request for a device
 * already pending, `--isolate` cuts a device still pending after the wait off from the host.
 */
import type { Domain } from '../api/domain.js';
import type { DetachOptions, DetachOutcome } from '../shared/hotplug-contract.js';
import { ErrorCode, ErrorDomain, VirtError } from '../errors.js';
import { type Args, flag, type OptionDef, str } from './command.js';

/** The longest --wait (one hour, the library's bound). */
const MAX_WAIT_S = 3600;

export function contractOptionDefs(): OptionDef[] {
  return [
    { name: 'wait', kind: 'number', positional: false, ownNumberCheck: true, help: 'wait up to SECONDS for the guest to release the device; fail if it is still there (virtkit extension)' },
    { name: 'if-present', kind: 'bool', help: 'succeed when there is no such device (virtkit extension)' },
    { name: 'resend', kind: 'bool', help: 'send the unplug request again although one is pending (virtkit extension)' },
    { name: 'isolate', kind: 'bool', help: 'cut the device off from the host when it is still pending after the wait (virtkit extension)' },
  ];
}

function usage(message: string): VirtError {
  return new VirtError(ErrorCode.INVALID_ARG, message, { domain: ErrorDomain.NONE });
}

/** The contract's options when any contract option was given; undefined keeps virsh's behaviour. */
export function contractOptions(args: Args): DetachOptions | undefined {
  const wait = str(args, 'wait');
  const ifPresent = flag(args, 'if-present');
  const resend = flag(args, 'resend');
  const isolate = flag(args, 'isolate');
  if (wait === undefined && !ifPresent && !resend && !isolate) return undefined;
  const o: DetachOptions = {};
  if (wait !== undefined) {
    const s = Number(wait);
    if (!Number.isInteger(s) || s < 0 || s > MAX_WAIT_S) throw usage(`Invalid value for --wait: '${wait}' (expected seconds from 0 to ${MAX_WAIT_S})`);
    o.waitMs = s * 1000;
  }
  if (ifPresent) o.ifPresent = true;
  if (resend) o.resend = true;
  if (isolate) o.isolate = true;
  return o;
}

/** Detach with or without the contract, by XML. */
export function detachXml(dom: Domain, xml: string, flags: number, flagless: boolean, options: DetachOptions | undefined): Promise<DetachOutcome | { outcome: 'removed' | 'pending'; alias?: string }> {
  if (options === undefined) return flagless ? dom.detachDevice(xml) : dom.detachDeviceFlags(xml, flags);
  return flagless ? dom.detachDevice(xml, options) : dom.detachDeviceFlags(xml, flags, options);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * What a contract detach printed: the virsh success line when the device is gone; an absent device
 * says so; a device still pending is a failure when --wait was asked (its request stays in effect),
 * and a success when it was isolated as asked.
 */
export function reportOutcome(
  ctx: { info(text: string): void; note(text: string): void },
  r: DetachOutcome,
  success: string,
  options: DetachOptions,
  sentLine = success,
): void {
  if (r.status === 'removed') {
    ctx.info(r.absent ? 'No such device: nothing to detach\n' : `${success}\n`);
    return;
  }
  const who = r.alias ? `device '${r.alias}'` : 'the device';
  const age = r.since === undefined ? '' : ` for ${seconds(Date.now() - r.since)}`;
  const id = r.requestId ? `, request ${r.requestId}` : '';
  if (r.state === 'pending-until-shutdown') {
    ctx.info(`Device isolated: ${who} is cut off from the host and leaves when the guest releases it or the domain stops (${r.reason}${age}${id})\n`);
    return;
  }
  const what = `${who} is still pending (${r.reason}${age}${id}); the unplug request stays in effect`;
  if (options.waitMs !== undefined) throw new VirtError(ErrorCode.OPERATION_TIMEOUT, `Timed out during operation: ${what}`, { domain: ErrorDomain.NONE });
  ctx.info(`${sentLine}\n`);
  ctx.note(`note: ${what} (see 'virtkit pending-devices')\n`);
}
