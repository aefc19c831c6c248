/**
 * Opens the remote driver: connect the transport, then libvirt's client handshake (auth list,
 * keepalive feature, CONNECT_OPEN, event-callback feature, driver type).
 */
import { ErrorCode, VirtError } from '../../errors.js';
import { remoteProcedures as P } from '../../rpc/generated/remote-protocol.js';
import { VIR_FROM_RPC } from '../../rpc/wire.js';
import type { OpenOptions, ParsedUri } from '../registry.js';
import { RemoteDriver } from './driver.js';
import { RpcClient } from './rpc-client.js';
import { openTransport } from './transport.js';
import { remoteTarget } from './uri.js';

/** VIR_DRV_FEATURE_* numbers the client asks about. */
const FEATURE_KEEPALIVE = 10;
const FEATURE_EVENT_CALLBACK = 14;
/** virsh's keepalive defaults: a ping after 5 s of silence, give up after 6 unanswered. */
const KEEPALIVE_INTERVAL_MS = 5000;
const KEEPALIVE_COUNT = 6;
/** VIR_CONNECT_RO */
const CONNECT_RO = 1;

export async function openRemoteDriver(uri: string, parsed: ParsedUri, options: OpenOptions & { readOnly?: boolean }): Promise<RemoteDriver> {
  const target = remoteTarget(uri, parsed);
  const stream = await openTransport(target.transport);
  const rpc = new RpcClient(stream.duplex, stream.stderr);
  try {
    const auth = await rpc.call(P.AUTH_LIST, undefined);
    if (auth.types.length > 0 && !auth.types.includes(0)) {
      throw new VirtError(ErrorCode.NO_SUPPORT, `the server at '${uri}' requires authentication (SASL or polkit), which virtkit's remote driver does not do`, { domain: VIR_FROM_RPC });
    }
    const keepalive = (await rpc.call(P.CONNECT_SUPPORTS_FEATURE, { feature: FEATURE_KEEPALIVE })).supported === 1;
    await rpc.call(P.CONNECT_OPEN, { name: target.openName, flags: options.readOnly ? CONNECT_RO : 0 });
    const callbackEvents = (await rpc.call(P.CONNECT_SUPPORTS_FEATURE, { feature: FEATURE_EVENT_CALLBACK })).supported === 1;
    const { type } = await rpc.call(P.CONNECT_GET_TYPE, undefined);
    if (keepalive) rpc.startKeepalive(KEEPALIVE_INTERVAL_MS, KEEPALIVE_COUNT);
    return new RemoteDriver(rpc, { uri, type, callbackEvents, onListenerError: options.onListenerError, shutdown: stream.destroy });
  } catch (err) {
    rpc.end();
    stream.destroy();
    throw err;
  }
}
