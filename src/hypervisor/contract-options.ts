/** Checks of the contract's options, wherever a caller hands them to a driver: INVALID_ARG naming the bad one. */
import { ErrorCode, virtError } from '../errors.js';
import type { ApplyOptions } from '../shared/declarative.js';
import { type DetachOptions, MAX_WAIT_MS } from '../shared/hotplug-contract.js';
import { checkHotplugSlots } from './hotplug-slots.js';

const KEYS = new Set(['waitMs', 'resend', 'ifPresent', 'isolate', 'ifBusy']);

function bad(fn: string, what: string): never {
  throw virtError(ErrorCode.INVALID_ARG, `${what} in ${fn}`);
}

/** The options as given, checked (an unknown key is refused: a typo must not silently change nothing). */
export function checkDetachOptions(options: unknown, fn: string): DetachOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) bad(fn, 'detach options must be an object');
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) bad(fn, `unknown detach option '${k}' (known: ${[...KEYS].join(', ')})`);
  const w = o.waitMs;
  if (w !== undefined && (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > MAX_WAIT_MS)) {
    bad(fn, `waitMs must be an integer number of milliseconds from 0 to ${MAX_WAIT_MS}, got ${String(w)}`);
  }
  for (const k of ['resend', 'ifPresent', 'isolate'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') bad(fn, `${k} must be a boolean, got ${String(o[k])}`);
  }
  if (o.ifBusy !== undefined && o.ifBusy !== 'hold' && o.ifBusy !== 'fail') bad(fn, `ifBusy must be 'hold' or 'fail', got ${String(o.ifBusy)}`);
  return o as DetachOptions;
}

/** The define options as given, checked; the number of hot-plug slots to reserve (0: a plain define). */
export function checkDefineOptions(options: unknown, fn: string): number {
  if (options === undefined) return 0;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) bad(fn, 'define options must be an object');
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'hotplugSlots') bad(fn, `unknown define option '${k}' (known: hotplugSlots)`);
  return o.hotplugSlots === undefined ? 0 : checkHotplugSlots(o.hotplugSlots, fn);
}

/** The options of applyDevices, checked. */
export function checkApplyOptions(options: unknown, fn: string): ApplyOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) bad(fn, 'apply options must be an object');
  const o = options as Record<string, unknown>;
  for (const k of Object.keys(o)) if (k !== 'waitMs') bad(fn, `unknown apply option '${k}' (known: waitMs)`);
  const w = o.waitMs;
  if (w !== undefined && (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > MAX_WAIT_MS)) {
    // Only numbers are printed: any other value is named by its type (a hostile toString must not run).
    bad(fn, `waitMs must be an integer number of milliseconds from 0 to ${MAX_WAIT_MS}, got ${typeof w === 'number' ? String(w) : `a ${typeof w}`}`);
  }
  return o as ApplyOptions;
}
