/** Connection-level procedures: the handshake virsh performs, identity of the host and driver. */
import os from 'node:os';
import { remoteProcedures as P, RemoteAuthType } from '../../rpc/generated/remote-protocol.js';
import { capabilitiesXml } from '../capabilities.js';
import { PROTOCOL_LIBVIRT_VERSION } from '../context.js';
import { handle, type Handler } from '../dispatch.js';

/** VIR_DRV_FEATURE_* values virtkitd supports (src/libvirt_internal.h in libvirt). */
const Feature = {
  PROGRAM_KEEPALIVE: 10,
  REMOTE_EVENT_CALLBACK: 14,
  REMOTE_CLOSE_CALLBACK: 15,
} as const;
const supportedFeatures = new Set<number>(Object.values(Feature));

/** A C string as a `char` array of the wire, NUL included (as libvirtd sends it). */
function cChars(s: string, fixed?: number): number[] {
  const bytes = [...Buffer.from(s, 'utf8')].map((b) => (b << 24) >> 24);
  if (fixed === undefined) return [...bytes, 0];
  const out = new Array<number>(fixed).fill(0);
  for (let i = 0; i < Math.min(bytes.length, fixed - 1); i++) out[i] = bytes[i]!;
  return out;
}

export const connectHandlers: Handler[] = [
  handle(P.AUTH_LIST, () => ({ types: [RemoteAuthType.NONE] }), { beforeOpen: true }),
  handle(P.CONNECT_SUPPORTS_FEATURE, (_ctx, a) => ({ supported: supportedFeatures.has(a.feature) ? 1 : 0 }), { beforeOpen: true }),
  handle(P.CONNECT_OPEN, async (ctx, a) => ctx.open(a.name, a.flags), { beforeOpen: true }),
  handle(P.CONNECT_CLOSE, async (ctx) => ctx.close(), { beforeOpen: true }),
  handle(P.CONNECT_REGISTER_CLOSE_CALLBACK, () => undefined),
  handle(P.CONNECT_UNREGISTER_CLOSE_CALLBACK, () => undefined),
  handle(P.CONNECT_GET_URI, (ctx) => ({ uri: ctx.uri })),
  handle(P.CONNECT_GET_TYPE, (ctx) => ({ type: ctx.driver.type })),
  handle(P.CONNECT_GET_VERSION, async (ctx) => ({ hv_ver: BigInt(await ctx.driver.getVersion()) })),
  handle(P.CONNECT_GET_LIB_VERSION, () => ({ lib_ver: BigInt(PROTOCOL_LIBVIRT_VERSION) })),
  handle(P.CONNECT_GET_HOSTNAME, async (ctx) => ({ hostname: await ctx.driver.getHostname() })),
  handle(P.CONNECT_IS_SECURE, (ctx) => ({ secure: ctx.secure ? 1 : 0 })),
  handle(P.CONNECT_GET_CAPABILITIES, async (ctx) => ({ capabilities: await capabilitiesXml(ctx.driver) })),
  handle(P.CONNECT_GET_SYSINFO, () => ({ sysinfo: `<sysinfo type='smbios'>\n</sysinfo>\n` })),
  handle(P.NODE_GET_INFO, () => {
    const cpus = os.cpus();
    return {
      model: cChars(os.arch() === 'x64' ? 'x86_64' : os.arch(), 32),
      memory: BigInt(Math.floor(os.totalmem() / 1024)),
      cpus: cpus.length,
      mhz: cpus[0]?.speed ?? 0,
      nodes: 1,
      sockets: 1,
      cores: cpus.length,
      threads: 1,
    };
  }),
  // No security driver: an empty model, which virsh prints nothing for.
  handle(P.NODE_GET_SECURITY_MODEL, () => ({ model: cChars(''), doi: cChars('') })),
];
