/** `event`: waits for domain events and prints them the way virsh does. */
import type { EventFilter } from '../../api/event-stream.js';
import type { DomainEventType } from '../../api/events.js';
import { defineCommand, flag, str } from '../command.js';
import { badNumber } from '../args.js';
import { UsageError } from '../errors.js';
import { EVENT_NAMES, formatEvent, VIRSH_EVENT_NAMES } from '../format/events.js';

/** virsh's --timestamp prefix: local-independent UTC, millisecond precision. */
function timestamp(d: Date): string {
  return d.toISOString().replace('T', ' ').replace('Z', '+0000');
}

export const event = defineCommand({
  name: 'event',
  group: 'events',
  summary: 'Domain Events',
  description: 'List event types, or wait for domain events to occur',
  options: [
    { name: 'domain', kind: 'string', help: 'filter by domain name, id or uuid' },
    { name: 'event', kind: 'string', help: 'which event type to wait for' },
    { name: 'all', kind: 'bool', help: 'wait for all events instead of just one type' },
    { name: 'loop', kind: 'bool', help: 'loop until timeout or interrupt, rather than one-shot' },
    { name: 'timeout', kind: 'number', ownNumberCheck: true, help: 'timeout seconds' },
    { name: 'list', kind: 'bool', help: 'list valid event types' },
    { name: 'timestamp', kind: 'bool', help: 'show timestamp for each printed event' },
  ],
  exclusive: [['all', 'event']],
  async run(ctx, args) {
    if (flag(args, 'list')) {
      ctx.out(VIRSH_EVENT_NAMES.map((n) => n + '\n').join(''));
      return;
    }
    const name = str(args, 'event');
    if (!flag(args, 'all') && name === undefined) throw new UsageError('one of --list, --all, or --event <type> is required');
    if (name !== undefined && !(VIRSH_EVENT_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`unknown event type ${name}`, "see 'virtkit event --list'.");
    }
    const timeoutText = str(args, 'timeout');
    const timeout = timeoutText === undefined ? undefined : /^\s*\+?\d+$/.test(timeoutText) ? Number(timeoutText) : Number.NaN;
    if (timeout !== undefined && !(timeout > 0 && timeout <= 2147483)) {
      throw badNumber('timeout', timeoutText!);
    }
    const conn = await ctx.connection();
    // A type virtkit never delivers (reboot, tray-change, ...) waits like virsh's test driver: for nothing.
    const delivered = (EVENT_NAMES as readonly string[]).includes(name ?? '');
    const filter: EventFilter = name ? { types: delivered ? [name as DomainEventType] : [] } : {};
    const domain = str(args, 'domain');
    if (domain !== undefined) filter.domain = (await ctx.domain(domain)).uuid;

    const stop = new AbortController();
    let timedOut = false;
    const timer =
      timeout === undefined
        ? // Nothing else may keep the process alive while we wait (in-process driver): hold it open until interrupted.
          setInterval(() => {}, 1 << 30)
        : setTimeout(() => {
            timedOut = true;
            stop.abort();
          }, timeout * 1000);
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    let count = 0;
    try {
      for await (const e of conn.events(filter, stop.signal)) {
        ctx.out((flag(args, 'timestamp') ? `${timestamp(new Date())}: ` : '') + formatEvent(e) + '\n');
        count++;
        if (!flag(args, 'loop')) break;
      }
    } finally {
      clearTimeout(timer);
      clearInterval(timer);
      process.off('SIGINT', onSignal);
    }
    if (timedOut) ctx.out('event loop timed out\n');
    ctx.out(`events received: ${count}\n`);
    // virsh: waiting that saw nothing is a failure (exit status 1), without an error message.
    return count > 0;
  },
});
