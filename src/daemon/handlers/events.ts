/** Event registration procedures (both of libvirt's styles). */
import { remoteProcedures as P } from '../../rpc/generated/remote-protocol.js';
import { fromWireDomain } from '../../rpc/wire.js';
import { EventId } from '../../shared/flags.js';
import { handle, type Handler } from '../dispatch.js';

export const eventHandlers: Handler[] = [
  handle(P.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, async (ctx, a) => {
    const filter = a.dom ? await ctx.driver.refresh(fromWireDomain(a.dom)) : null;
    return { callbackID: await ctx.events.register(ctx.driver, a.eventID, filter) };
  }),
  handle(P.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, (ctx, a) => ctx.events.deregister(a.callbackID)),
  handle(P.CONNECT_DOMAIN_EVENT_REGISTER_ANY, (ctx, a) => ctx.events.registerLegacy(ctx.driver, a.eventID)),
  handle(P.CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, (ctx, a) => ctx.events.deregisterLegacy(a.eventID)),
  handle(P.CONNECT_DOMAIN_EVENT_REGISTER, async (ctx) => {
    await ctx.events.registerLegacy(ctx.driver, EventId.LIFECYCLE);
    return { cb_registered: 1 };
  }),
  handle(P.CONNECT_DOMAIN_EVENT_DEREGISTER, async (ctx) => {
    await ctx.events.deregisterLegacy(EventId.LIFECYCLE);
    return { cb_registered: 0 };
  }),
];
