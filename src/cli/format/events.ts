/** virsh's event lines: `event 'lifecycle' for domain 'NAME': Started Booted`. */
import type { DomainEvent } from '../../api/events.js';

/** virDomainEventType names and their detail names, as virsh prints them. */
const lifecycle: readonly (readonly [string, readonly string[]])[] = [
  ['Defined', ['Added', 'Updated', 'Renamed', 'Snapshot']],
  ['Undefined', ['Removed', 'Renamed']],
  ['Started', ['Booted', 'Migrated', 'Restored', 'Snapshot', 'Event wakeup']],
  [
    'Suspended',
    ['Paused', 'Migrated', 'I/O Error', 'Watchdog', 'Restored', 'Snapshot', 'API error', 'Post-copy', 'Post-copy Error'],
  ],
  ['Resumed', ['Unpaused', 'Migrated', 'Snapshot', 'Post-copy', 'Post-copy Error']],
  ['Stopped', ['Shutdown', 'Destroyed', 'Crashed', 'Migrated', 'Saved', 'Failed', 'Snapshot']],
  ['Shutdown', ['Finished', 'Finished after guest request', 'Finished after host request']],
  ['PMSuspended', ['Memory', 'Disk']],
  ['Crashed', ['Panicked', 'Crashloaded']],
];

/** The event names virtkit delivers. */
export const EVENT_NAMES = ['lifecycle', 'device-added', 'device-removed', 'device-removal-failed'] as const;

/** Every event name virsh's `event --list` prints, in its order (the others never occur with virtkit's drivers yet). */
export const VIRSH_EVENT_NAMES = [
  'lifecycle', 'reboot', 'rtc-change', 'watchdog', 'io-error', 'graphics', 'io-error-reason', 'control-error',
  'block-job', 'disk-change', 'tray-change', 'pm-wakeup', 'pm-suspend', 'balloon-change', 'pm-suspend-disk',
  'device-removed', 'block-job-2', 'tunable', 'agent-lifecycle', 'device-added', 'migration-iteration',
  'job-completed', 'device-removal-failed', 'metadata-change', 'block-threshold', 'memory-failure',
  'memory-device-size-change',
] as const;

/** One event as the line virsh's `event` command prints (without newline). */
export function formatEvent(e: DomainEvent): string {
  const head = `event '${e.type}' for domain '${e.domain.name}'`;
  if (e.type !== 'lifecycle') return `${head}: ${e.alias}`;
  const [name, details] = lifecycle[e.event] ?? ['unknown', []];
  return `${head}: ${name} ${details[e.detail] ?? 'unknown'}`;
}
