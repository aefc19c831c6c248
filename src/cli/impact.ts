/**
 * virsh's --live/--config/--current/--persistent handling for device commands
 * (tools/virsh-domain.c, cmdAttachDevice and friends).
 */
import type { Domain } from '../api/domain.js';
import { DeviceModify } from '../api/flags.js';
import { type Args, flag, type OptionDef } from './command.js';

/** The impact options of attach/detach/update, with virsh's help texts. */
export function impactOptions(persistent = true): OptionDef[] {
  const opts: OptionDef[] = [];
  if (persistent) opts.push({ name: 'persistent', kind: 'bool', help: 'make live change persistent' });
  opts.push(
    { name: 'config', kind: 'bool', help: 'affect next boot' },
    { name: 'live', kind: 'bool', help: 'affect running domain' },
    { name: 'current', kind: 'bool', help: 'affect current domain' },
  );
  return opts;
}

/** virsh's exclusions among the impact options. */
export const IMPACT_EXCLUSIVE: [string, string][] = [
  ['persistent', 'current'],
  ['current', 'live'],
  ['current', 'config'],
];

/** Flags for the API call, and whether virsh would use the flag-less (LIVE-only) API instead. */
export interface Impact {
  flags: number;
  flagless: boolean;
}

/**
 * `--config`/`--persistent` → CONFIG, `--live` → LIVE, `--persistent` on a running
 * domain adds LIVE, `--current` → CURRENT (0); no option at all → the flag-less call.
 */
export async function deviceImpact(args: Args, dom: Domain): Promise<Impact> {
  let flags: number = DeviceModify.CURRENT;
  if (flag(args, 'config') || flag(args, 'persistent')) flags |= DeviceModify.CONFIG;
  if (flag(args, 'live')) flags |= DeviceModify.LIVE;
  if (flag(args, 'persistent') && (await dom.isActive())) flags |= DeviceModify.LIVE;
  return { flags, flagless: flags === 0 && !flag(args, 'current') };
}
