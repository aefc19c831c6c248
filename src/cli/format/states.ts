/** virsh's words for domain states and their reasons (`domstate --reason`). */
import { stateNames } from '../../api/flags.js';

/** Reason names per state, indexed by libvirt's reason number (virDomain*Reason). */
const reasonNames: Record<number, readonly string[]> = {
  0: ['unknown'],
  1: [
    'unknown',
    'booted',
    'migrated',
    'restored',
    'from snapshot',
    'unpaused',
    'migration canceled',
    'save canceled',
    'event wakeup',
    'crashed',
    'post-copy',
    'post-copy failed',
  ],
  2: ['unknown'],
  3: [
    'unknown',
    'user',
    'migrating',
    'saving',
    'dumping',
    'I/O error',
    'watchdog',
    'from snapshot',
    'shutting down',
    'creating snapshot',
    'crashed',
    'starting up',
    'post-copy',
    'post-copy failed',
    'api error',
  ],
  4: ['unknown', 'user'],
  5: ['unknown', 'shutdown', 'destroyed', 'crashed', 'migrated', 'saved', 'failed', 'from snapshot', 'daemon'],
  6: ['unknown', 'panicked'],
  7: ['unknown'],
};

/** "running", "shut off", ... */
export function stateName(state: number): string {
  return stateNames[state] ?? 'no state';
}

/** "booted", "destroyed", ... ("unknown" for numbers virsh would not know either). */
export function reasonName(state: number, reason: number): string {
  return reasonNames[state]?.[reason] ?? 'unknown';
}
