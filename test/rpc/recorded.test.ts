/**
 * Every frame of real virsh sessions (recorded against libvirtd 9.0 and virtkitd, see
 * fixtures/record.ts) decodes with the generated tables and encodes back to the same bytes:
 * the codecs agree with libvirt's own XDR, byte for byte.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Codec } from '../../src/rpc/codec.js';
import { KEEPALIVE_PROGRAM } from '../../src/rpc/generated/keepalive-protocol.js';
import { encRemoteError, decRemoteError, REMOTE_PROGRAM, remoteProcedures } from '../../src/rpc/generated/remote-protocol.js';
import { decodeFrame, encodeFrame } from '../../src/rpc/message.js';
import { loadRecorded } from './recorded.js';

const byProc = new Map(Object.values(remoteProcedures).map((p) => [p.proc, p]));
const errorCodec: Codec<ReturnType<typeof decRemoteError>> = { encode: encRemoteError, decode: decRemoteError };

test('recorded virsh sessions decode and re-encode byte for byte', () => {
  const frames = loadRecorded();
  const seen = new Set<string>();
  let checked = 0;
  for (const f of frames) {
    const { header, payload } = decodeFrame(f.bytes);
    let codec: Codec<unknown> | undefined;
    if (header.prog === KEEPALIVE_PROGRAM) codec = { encode() {}, decode() {} };
    else {
      assert.equal(header.prog, REMOTE_PROGRAM);
      const p = byProc.get(header.proc);
      assert.ok(p, `${f.peer} ${f.dir}: procedure ${header.proc} is not in the selection`);
      codec = header.status === 1 ? errorCodec : f.dir === 'c2s' || header.type === 2 ? p.args : p.ret;
      seen.add(`${f.dir} ${p.name}`);
    }
    const value = codec.decode(payload);
    payload.end();
    assert.deepEqual(encodeFrame(header, codec, value), f.bytes, `${f.peer} ${f.dir} procedure ${header.proc} serial ${header.serial}`);
    checked++;
  }
  assert.equal(checked, frames.length);
  // The sessions cover the handshake, hot-plug and events.
  for (const name of ['c2s CONNECT_OPEN', 'c2s DOMAIN_ATTACH_DEVICE_FLAGS', 's2c DOMAIN_GET_XML_DESC', 'c2s CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY', 's2c DOMAIN_GET_INFO']) {
    assert.ok(seen.has(name), `no ${name} in the recording`);
  }
});
