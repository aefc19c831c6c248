/** Domain procedures: lookups, definitions, lifecycle, reading state and XML, hot-plug. */
import { ErrorCode, virtError } from '../../errors.js';
import { DeviceModify, DomainXML } from '../../shared/flags.js';
import { remoteProcedures as P } from '../../rpc/generated/remote-protocol.js';
import { fromWireDomain as dom, uuidString, toWireDomain as wire } from '../../rpc/wire.js';
import { handle, type Handler } from '../dispatch.js';

const bit = (b: boolean): number => (b ? 1 : 0);

export const domainHandlers: Handler[] = [
  // Listing and lookups
  handle(P.CONNECT_LIST_ALL_DOMAINS, async (ctx, a) => {
    const refs = await ctx.driver.listAllDomains(a.flags);
    return { domains: a.need_results ? refs.map(wire) : [], ret: refs.length };
  }),
  handle(P.CONNECT_NUM_OF_DOMAINS, async (ctx) => ({ num: (await ctx.driver.listAllDomains(1)).length })),
  handle(P.CONNECT_LIST_DOMAINS, async (ctx, a) => ({ ids: (await ctx.driver.listAllDomains(1)).map((d) => d.id).slice(0, a.maxids) })),
  handle(P.CONNECT_NUM_OF_DEFINED_DOMAINS, async (ctx) => ({ num: (await ctx.driver.listAllDomains(2)).length })),
  handle(P.CONNECT_LIST_DEFINED_DOMAINS, async (ctx, a) => ({ names: (await ctx.driver.listAllDomains(2)).map((d) => d.name).slice(0, a.maxnames) })),
  handle(P.DOMAIN_LOOKUP_BY_ID, async (ctx, a) => ({ dom: wire(await ctx.driver.lookupByID(a.id)) })),
  handle(P.DOMAIN_LOOKUP_BY_NAME, async (ctx, a) => ({ dom: wire(await ctx.driver.lookupByName(a.name)) })),
  handle(P.DOMAIN_LOOKUP_BY_UUID, async (ctx, a) => ({ dom: wire(await ctx.driver.lookupByUUID(uuidString(a.uuid))) })),

  // Definitions and lifecycle
  handle(P.DOMAIN_DEFINE_XML, async (ctx, a) => ({ dom: wire(await ctx.driver.defineXML(a.xml, 0)) })),
  handle(P.DOMAIN_DEFINE_XML_FLAGS, async (ctx, a) => ({ dom: wire(await ctx.driver.defineXML(a.xml, a.flags)) })),
  handle(P.DOMAIN_UNDEFINE, (ctx, a) => ctx.driver.undefine(dom(a.dom), 0)),
  handle(P.DOMAIN_UNDEFINE_FLAGS, (ctx, a) => ctx.driver.undefine(dom(a.dom), a.flags)),
  handle(P.DOMAIN_CREATE_XML, async (ctx, a) => ({ dom: wire(await ctx.driver.createXML(a.xml_desc, a.flags)) })),
  handle(P.DOMAIN_CREATE, async (ctx, a) => {
    await ctx.driver.create(dom(a.dom), 0);
  }),
  handle(P.DOMAIN_CREATE_WITH_FLAGS, async (ctx, a) => ({ dom: wire(await ctx.driver.create(dom(a.dom), a.flags)) })),
  handle(P.DOMAIN_DESTROY, (ctx, a) => ctx.driver.destroy(dom(a.dom), 0)),
  handle(P.DOMAIN_DESTROY_FLAGS, (ctx, a) => ctx.driver.destroy(dom(a.dom), a.flags)),
  handle(P.DOMAIN_SHUTDOWN, (ctx, a) => ctx.driver.shutdown(dom(a.dom), 0)),
  handle(P.DOMAIN_SHUTDOWN_FLAGS, (ctx, a) => ctx.driver.shutdown(dom(a.dom), a.flags)),
  handle(P.DOMAIN_SUSPEND, (ctx, a) => ctx.driver.suspend(dom(a.dom))),
  handle(P.DOMAIN_RESUME, (ctx, a) => ctx.driver.resume(dom(a.dom))),

  // Reading a domain
  handle(P.DOMAIN_GET_XML_DESC, async (ctx, a) => {
    if (ctx.readOnly && a.flags & (DomainXML.SECURE | DomainXML.MIGRATABLE)) {
      throw virtError(ErrorCode.OPERATION_DENIED, `virDomainGetXMLDesc with secure flag`);
    }
    return { xml: await ctx.driver.getXMLDesc(dom(a.dom), a.flags) };
  }),
  handle(P.DOMAIN_GET_INFO, async (ctx, a) => {
    const i = await ctx.driver.getInfo(dom(a.dom));
    return { state: i.state, maxMem: BigInt(i.maxMem), memory: BigInt(i.memory), nrVirtCpu: i.nrVirtCpu, cpuTime: BigInt(Math.round(i.cpuTime)) };
  }),
  handle(P.DOMAIN_GET_STATE, async (ctx, a) => {
    if (a.flags !== 0) throw virtError(ErrorCode.INVALID_ARG, `unsupported flags (0x${a.flags.toString(16)}) in function virDomainGetState`);
    return ctx.driver.getState(dom(a.dom));
  }),
  handle(P.DOMAIN_IS_ACTIVE, async (ctx, a) => ({ active: bit(await ctx.driver.isActive(dom(a.dom))) })),
  handle(P.DOMAIN_IS_PERSISTENT, async (ctx, a) => ({ persistent: bit(await ctx.driver.isPersistent(dom(a.dom))) })),
  handle(P.DOMAIN_IS_UPDATED, async (ctx, a) => {
    await ctx.driver.refresh(dom(a.dom));
    return { updated: 0 };
  }),
  handle(P.DOMAIN_GET_AUTOSTART, async (ctx, a) => ({ autostart: bit(await ctx.driver.getAutostart(dom(a.dom))) })),
  handle(P.DOMAIN_GET_OS_TYPE, async (ctx, a) => ({ type: await ctx.driver.getOSType(dom(a.dom)) })),
  handle(P.DOMAIN_GET_MAX_MEMORY, async (ctx, a) => ({ memory: BigInt((await ctx.driver.getInfo(dom(a.dom))).maxMem) })),
  handle(P.DOMAIN_HAS_MANAGED_SAVE_IMAGE, async (ctx, a) => ({ result: bit(await ctx.driver.hasManagedSaveImage(dom(a.dom), a.flags)) })),
  // No snapshots, checkpoints, security labels or taint messages: empty answers for an existing domain.
  handle(P.DOMAIN_SNAPSHOT_NUM, async (ctx, a) => {
    await ctx.driver.refresh(dom(a.dom));
    return { num: 0 };
  }),
  handle(P.DOMAIN_LIST_ALL_SNAPSHOTS, async (ctx, a) => {
    await ctx.driver.refresh(dom(a.dom));
    return { snapshots: [], ret: 0 };
  }),
  handle(P.DOMAIN_LIST_ALL_CHECKPOINTS, async (ctx, a) => {
    await ctx.driver.refresh(dom(a.dom));
    return { checkpoints: [], ret: 0 };
  }),
  handle(P.DOMAIN_GET_SECURITY_LABEL, async (ctx, a) => {
    await ctx.driver.refresh(dom(a.dom));
    return { label: [0], enforcing: 0 };
  }),
  handle(P.DOMAIN_GET_SECURITY_LABEL_LIST, async (ctx, a) => {
    await ctx.driver.refresh(dom(a.dom));
    return { labels: [], ret: 0 };
  }),
  handle(P.DOMAIN_GET_MESSAGES, async (ctx, a) => {
    await ctx.driver.refresh(dom(a.dom));
    return { msgs: [] };
  }),

  // Hot-plug: libvirt's replies are void; virtkit's typed outcomes stay on this side.
  handle(P.DOMAIN_ATTACH_DEVICE, async (ctx, a) => {
    await ctx.driver.attachDevice(dom(a.dom), a.xml, DeviceModify.LIVE);
  }),
  handle(P.DOMAIN_ATTACH_DEVICE_FLAGS, async (ctx, a) => {
    await ctx.driver.attachDevice(dom(a.dom), a.xml, a.flags);
  }),
  handle(P.DOMAIN_DETACH_DEVICE, async (ctx, a) => {
    await ctx.driver.detachDevice(dom(a.dom), a.xml, DeviceModify.LIVE);
  }),
  handle(P.DOMAIN_DETACH_DEVICE_FLAGS, async (ctx, a) => {
    await ctx.driver.detachDevice(dom(a.dom), a.xml, a.flags);
  }),
  handle(P.DOMAIN_UPDATE_DEVICE_FLAGS, (ctx, a) => ctx.driver.updateDevice(dom(a.dom), a.xml, a.flags)),
  handle(P.DOMAIN_DETACH_DEVICE_ALIAS, async (ctx, a) => {
    await ctx.driver.detachDeviceAlias(dom(a.dom), a.alias, a.flags);
  }),
];
