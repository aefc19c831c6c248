/**
 * virtkitd at the packet level: the handshake, libvirt's error replies for calls it cannot serve,
 * malformed and oversized packets closing only their own connection, keepalive both ways, a client
 * that stops reading being dropped without slowing the others, read-only access, shared drivers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { voidCodec } from '../../src/rpc/codec.js';
import { KEEPALIVE_PROGRAM } from '../../src/rpc/generated/keepalive-protocol.js';
import { remoteProcedures as P, RemoteProcedure } from '../../src/rpc/generated/remote-protocol.js';
import { encodeFrame } from '../../src/rpc/message.js';
import { uuidBytes } from '../../src/rpc/wire.js';
import { XdrWriter } from '../../src/rpc/xdr.js';
import { errorOf, type InProcessDaemon, RawClient, startInProcess } from './helpers.js';

let serial = 100;
/** Sends a call and returns its reply frame. */
async function call<A>(c: RawClient, proc: { proc: number; args: { encode(w: XdrWriter, v: A): void } }, args: A) {
  const s = ++serial;
  c.send({ proc: proc.proc, serial: s }, proc.args, args);
  return c.reply(s);
}

async function opened(path: string, uri = 'test:///default', flags = 0): Promise<RawClient> {
  const c = await RawClient.connect(path);
  const r = await call(c, P.CONNECT_OPEN, { name: uri, flags });
  assert.equal(r.header.status, 0, r.header.status ? errorOf(r).message ?? '' : '');
  return c;
}

const domainXml = (name: string, extra = ''): string =>
  `<domain type='test'><name>${name}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>${extra}</domain>`;

describe('virtkitd protocol', () => {
  let d: InProcessDaemon;
  before(async () => {
    d = await startInProcess({ limits: { maxQueuedBytes: 256 * 1024, keepaliveIntervalMs: 200, keepaliveCount: 2 } });
  });
  after(() => d.stop());

  test('handshake as virsh performs it: auth list, keepalive feature, open', async () => {
    const c = await RawClient.connect(d.socket);
    const auth = await call(c, P.AUTH_LIST, undefined);
    assert.deepEqual(P.AUTH_LIST.ret.decode(auth.payload), { types: [0] });
    const feats = await Promise.all([10, 14, 15, 4].map((feature) => call(c, P.CONNECT_SUPPORTS_FEATURE, { feature })));
    assert.deepEqual(feats.map((f) => P.CONNECT_SUPPORTS_FEATURE.ret.decode(f.payload).supported), [1, 1, 1, 0]);
    const open = await call(c, P.CONNECT_OPEN, { name: 'test:///default', flags: 0 });
    assert.equal(open.header.status, 0);
    assert.deepEqual(P.CONNECT_GET_URI.ret.decode((await call(c, P.CONNECT_GET_URI, undefined)).payload), { uri: 'test:///default' });
    assert.equal(P.CONNECT_IS_SECURE.ret.decode((await call(c, P.CONNECT_IS_SECURE, undefined)).payload).secure, 1);
    const close = await call(c, P.CONNECT_CLOSE, undefined);
    assert.equal(close.header.status, 0);
    assert.equal(errorOf(await call(c, P.CONNECT_GET_TYPE, undefined)).message, 'internal error: hypervisor connection not open');
    c.close();
  });

  test('calls before CONNECT_OPEN get libvirtd\'s "hypervisor connection not open"', async () => {
    const c = await RawClient.connect(d.socket);
    const e = errorOf(await call(c, P.CONNECT_LIST_ALL_DOMAINS, { need_results: 1, flags: 0 }));
    assert.deepEqual([e.code, e.domain, e.message], [1, 7, 'internal error: hypervisor connection not open']);
    c.close();
  });

  test('procedures virtkitd does not serve get an error reply and the connection carries on', async () => {
    const c = await opened(d.socket);
    // In libvirt's protocol, not implemented here: the API's "not supported" error.
    c.send({ proc: RemoteProcedure.DOMAIN_BLOCK_RESIZE, serial: 1 }, voidCodec, undefined);
    let e = errorOf(await c.reply(1));
    assert.deepEqual([e.code, e.message], [3, 'this function is not supported by the connection driver: virDomainBlockResize']);
    c.send({ proc: RemoteProcedure.CONNECT_LIST_ALL_NETWORKS, serial: 2 }, voidCodec, undefined);
    assert.equal(errorOf(await c.reply(2)).message, 'this function is not supported by the connection driver: virConnectListAllNetworks');
    // Not in libvirt's protocol at all: libvirtd's RPC error.
    c.send({ proc: 9999, serial: 3 }, voidCodec, undefined);
    e = errorOf(await c.reply(3));
    assert.deepEqual([e.code, e.domain, e.message], [39, 7, 'unknown procedure: 9999']);
    c.send({ prog: 0x1234, proc: 3, serial: 4 }, voidCodec, undefined);
    assert.equal(errorOf(await c.reply(4)).message, 'Cannot find program 4660 version 1');
    assert.deepEqual(P.CONNECT_GET_TYPE.ret.decode((await call(c, P.CONNECT_GET_TYPE, undefined)).payload), { type: 'Test' });
    assert.equal(c.closed, false);
    c.close();
  });

  test('malformed packets close that connection, with an error reply where there is a call to answer', async () => {
    const bystander = await opened(d.socket);
    const cases: [string, (c: RawClient) => void, string | null][] = [
      // A payload that does not decode: libvirt's error reply, then the connection closes.
      ['truncated payload', (c) => c.send({ proc: P.DOMAIN_LOOKUP_BY_NAME.proc, serial: 7 }, voidCodec, undefined), 'Unable to decode message payload'],
      [
        'trailing bytes',
        (c) => {
          const w = new XdrWriter();
          w.string('test', 100);
          w.int(5);
          c.send({ proc: P.DOMAIN_LOOKUP_BY_NAME.proc, serial: 7 }, { encode: (w2: XdrWriter) => w2.fixedOpaque(w.bytes(), w.length), decode: () => undefined }, undefined);
        },
        'Unable to decode message payload',
      ],
      [
        'string over its declared limit',
        (c) => {
          const w = new XdrWriter();
          w.uint(4194305);
          c.send({ proc: P.DOMAIN_LOOKUP_BY_NAME.proc, serial: 7 }, { encode: (w2: XdrWriter) => w2.fixedOpaque(w.bytes(), w.length), decode: () => undefined }, undefined);
        },
        'Unable to decode message payload',
      ],
      ['call with error status', (c) => c.send({ proc: 3, serial: 7, status: 1 }, voidCodec, undefined), 'Unexpected message status 1'],
      // Broken framing or message types no client sends: closed without a reply.
      ['length word below the header size', (c) => c.write(Buffer.from([0, 0, 0, 8, 1, 2, 3, 4])), null],
      ['length word above 32 MiB', (c) => c.write(Buffer.from([0x02, 0x00, 0x00, 0x01])), null],
      ['a reply sent by the client', (c) => c.send({ proc: 3, serial: 7, type: 1 }, voidCodec, undefined), null],
      ['unknown message type', (c) => c.send({ proc: 3, serial: 7, type: 99 }, voidCodec, undefined), null],
      ['keepalive with a payload', (c) => c.send({ prog: KEEPALIVE_PROGRAM, proc: 1, serial: 0, type: 2 }, { encode: (w: XdrWriter) => w.int(1), decode: () => undefined }, undefined), null],
    ];
    for (const [label, send, message] of cases) {
      const c = await opened(d.socket);
      send(c);
      await c.waitClosed().catch(() => assert.fail(`${label}: connection not closed`));
      const replies = c.frames.filter((f) => f.header.serial === 7);
      if (message === null) assert.equal(replies.length, 0, label);
      else assert.equal(errorOf(replies[0]!).message, message, label);
      // The other client is untouched.
      const r = await call(bystander, P.DOMAIN_LOOKUP_BY_NAME, { name: 'test' });
      assert.equal(P.DOMAIN_LOOKUP_BY_NAME.ret.decode(r.payload).dom.name, 'test', label);
    }
    bystander.close();
  });

  test('an oversized length is refused before its bytes arrive', async () => {
    const c = await opened(d.socket);
    const head = Buffer.alloc(28);
    head.writeUInt32BE(64 * 1024 * 1024, 0);
    c.write(head);
    await c.waitClosed();
  });

  test('keepalive: PING gets PONG; an idle client that asked for keepalive is pinged, and dropped when it never answers', async () => {
    const c = await opened(d.socket);
    c.answerPings = false;
    c.send({ prog: KEEPALIVE_PROGRAM, proc: 1, serial: 0, type: 2 }, voidCodec, undefined);
    await c.until((fs) => fs.some((f) => f.header.prog === KEEPALIVE_PROGRAM && f.header.proc === 2));
    await call(c, P.CONNECT_SUPPORTS_FEATURE, { feature: 10 });
    // 200 ms interval, 2 pings unanswered, then closed.
    await c.waitClosed(5000);
    assert.ok(c.frames.filter((f) => f.header.prog === KEEPALIVE_PROGRAM && f.header.proc === 1).length >= 2);
    // One that answers stays.
    const live = await opened(d.socket);
    await call(live, P.CONNECT_SUPPORTS_FEATURE, { feature: 10 });
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(live.closed, false);
    live.close();
  });

  test('replies queued while a client is slow to read arrive whole and in order (the output buffer is not reused under them)', async () => {
    // A daemon of its own: the suite's queue bound is small on purpose.
    const own = await startInProcess();
    const c = await opened(own.socket);
    try {
      // Different descriptions, so a reply overwritten by a later one would show.
      const doms = [];
      for (let i = 0; i < 3; i++) {
        const xml = domainXml(`queued${i}`, `<description>${String(i).repeat(30_000)}</description>`);
        doms.push(P.DOMAIN_DEFINE_XML.ret.decode((await call(c, P.DOMAIN_DEFINE_XML, { xml })).payload).dom);
      }
      c.socket.pause();
      const first = ++serial;
      serial += 24;
      // 24 replies of ~30 KB: more than the socket takes at once, so most wait in the daemon's queue.
      for (let i = 0; i < 24; i++) c.send({ proc: P.DOMAIN_GET_XML_DESC.proc, serial: first + i }, P.DOMAIN_GET_XML_DESC.args, { dom: doms[i % 3]!, flags: 0 });
      await new Promise((r) => setTimeout(r, 300));
      c.socket.resume();
      const ours = (fs: typeof c.frames) => fs.filter((f) => f.header.serial >= first && f.header.serial < first + 24);
      await c.until((fs) => ours(fs).length === 24);
      const replies = ours(c.frames);
      assert.deepEqual(
        replies.map((f) => f.header.serial),
        Array.from({ length: 24 }, (_, i) => first + i),
      );
      for (const [i, f] of replies.entries()) {
        assert.equal(f.header.status, 0);
        const { xml } = P.DOMAIN_GET_XML_DESC.ret.decode(f.payload);
        f.payload.end();
        assert.ok(xml.includes(`<description>${String(i % 3).repeat(30_000)}</description>`), `reply ${i} is domain queued${i % 3}'s`);
      }
    } finally {
      c.close();
      await own.stop();
    }
  });

  test('a client that stops reading is dropped once its queue passes the bound; others are served meanwhile', async () => {
    const writer = await opened(d.socket);
    const big = `<description>${'x'.repeat(200_000)}</description>`;
    const defined = await call(writer, P.DOMAIN_DEFINE_XML, { xml: domainXml('bigdesc', big) });
    const dom = P.DOMAIN_DEFINE_XML.ret.decode(defined.payload).dom;
    const slow = await opened(d.socket);
    slow.socket.pause(); // never reads again
    const start = Date.now();
    for (let i = 0; i < 64; i++) slow.send({ proc: P.DOMAIN_GET_XML_DESC.proc, serial: 1000 + i }, P.DOMAIN_GET_XML_DESC.args, { dom, flags: 0 });
    // Meanwhile another client gets every answer promptly.
    for (let i = 0; i < 20; i++) {
      const r = await call(writer, P.DOMAIN_GET_STATE, { dom, flags: 0 });
      assert.equal(r.header.status, 0);
    }
    const deadline = Date.now() + 10_000;
    while (d.server.clientCount > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(d.server.clientCount, 1, 'the stalled client was not dropped');
    assert.ok(Date.now() - start < 10_000);
    await call(writer, P.DOMAIN_UNDEFINE, { dom });
    writer.close();
    slow.close();
  });

  test('read-only: VIR_CONNECT_RO on open and the read-only socket refuse writes, allow reads and events', async () => {
    for (const [path, flags] of [
      [d.socket, 1],
      [d.roSocket, 0],
    ] as const) {
      const c = await opened(path, 'test:///default', flags);
      const e = errorOf(await call(c, P.DOMAIN_DEFINE_XML, { xml: domainXml('ro') }));
      assert.deepEqual([e.code, e.message], [29, 'operation forbidden: read only access prevents virDomainDefineXML']);
      const test1 = P.DOMAIN_LOOKUP_BY_NAME.ret.decode((await call(c, P.DOMAIN_LOOKUP_BY_NAME, { name: 'test' })).payload).dom;
      assert.equal(errorOf(await call(c, P.DOMAIN_SUSPEND, { dom: test1 })).message, 'operation forbidden: read only access prevents virDomainSuspend');
      assert.equal(errorOf(await call(c, P.DOMAIN_GET_XML_DESC, { dom: test1, flags: 1 })).message, 'operation forbidden: virDomainGetXMLDesc with secure flag');
      assert.equal((await call(c, P.DOMAIN_GET_XML_DESC, { dom: test1, flags: 0 })).header.status, 0);
      assert.equal((await call(c, P.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 0, dom: null })).header.status, 0);
      c.close();
    }
  });

  test('CONNECT_OPEN refuses URIs that name a transport, a host or host-side options', async () => {
    const c = await RawClient.connect(d.socket);
    const msgs: string[] = [];
    for (const name of ['test+tcp://localhost/default', 'test://otherhost/default', 'test:///default?state=/etc', 'xen:///system']) {
      msgs.push(errorOf(await call(c, P.CONNECT_OPEN, { name, flags: 0 })).message ?? '');
    }
    assert.match(msgs[0]!, /does not forward connections/);
    assert.match(msgs[1]!, /names the host 'otherhost'/);
    assert.match(msgs[2]!, /parameter 'state' in URI .* is not accepted over the network/);
    assert.match(msgs[3]!, /no connection driver available for 'xen:\/\/\/system'/);
    // A null name opens the default driver.
    assert.equal((await call(c, P.CONNECT_OPEN, { name: null, flags: 0 })).header.status, 0);
    assert.equal(errorOf(await call(c, P.CONNECT_OPEN, { name: null, flags: 0 })).message, 'internal error: connection already open');
    c.close();
  });

  test('clients of one URI share its driver while connected; it resets after the last leaves (as libvirtd)', async () => {
    const a = await opened(d.socket);
    const b = await opened(d.socket);
    await call(a, P.DOMAIN_DEFINE_XML, { xml: domainXml('shared') });
    assert.equal((await call(b, P.DOMAIN_LOOKUP_BY_NAME, { name: 'shared' })).header.status, 0);
    a.close();
    b.close();
    const deadline = Date.now() + 5000;
    while (d.server.driverHost.openCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const c = await opened(d.socket);
    assert.equal(errorOf(await call(c, P.DOMAIN_LOOKUP_BY_NAME, { name: 'shared' })).message, "Domain not found: no domain with matching name 'shared'");
    c.close();
  });

  test('event callbacks: per-domain filter, deregistration, legacy registration, bad event ids', async () => {
    const c = await opened(d.socket);
    const other = await opened(d.socket);
    const a = P.DOMAIN_DEFINE_XML.ret.decode((await call(other, P.DOMAIN_DEFINE_XML, { xml: domainXml('ev-a') })).payload).dom;
    const reg = async (eventID: number, dom: typeof a | null) =>
      P.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY.ret.decode((await call(c, P.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID, dom })).payload).callbackID;
    const onlyA = await reg(0, a);
    const all = await reg(0, null);
    assert.notEqual(onlyA, all);
    assert.equal((await call(c, P.CONNECT_DOMAIN_EVENT_REGISTER_ANY, { eventID: 0 })).header.status, 0);
    assert.equal(errorOf(await call(c, P.CONNECT_DOMAIN_EVENT_REGISTER_ANY, { eventID: 0 })).message, 'internal error: domain event 0 already registered');
    assert.equal(errorOf(await call(c, P.CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, { eventID: 27, dom: null })).message, 'internal error: unsupported event ID 27');
    await call(other, P.DOMAIN_CREATE, { dom: a });
    await call(other, P.DOMAIN_DEFINE_XML, { xml: domainXml('ev-b') });
    await c.until((fs) => fs.filter((f) => f.header.type === 2).length >= 5);
    const msgs = c.frames.filter((f) => f.header.type === 2);
    const seen = msgs.map((f) => {
      if (f.header.proc === P.DOMAIN_EVENT_CALLBACK_LIFECYCLE.proc) {
        const m = P.DOMAIN_EVENT_CALLBACK_LIFECYCLE.args.decode(f.payload);
        return `cb${m.callbackID === onlyA ? 'A' : 'all'} ${m.msg.dom.name} ${m.msg.event}/${m.msg.detail}`;
      }
      const m = P.DOMAIN_EVENT_LIFECYCLE.args.decode(f.payload);
      return `legacy ${m.dom.name} ${m.event}/${m.detail}`;
    });
    assert.deepEqual(seen.sort(), ['cbA ev-a 2/0', 'cball ev-a 2/0', 'cball ev-b 0/0', 'legacy ev-a 2/0', 'legacy ev-b 0/0']);
    assert.ok(msgs.every((f) => f.header.serial === 1 && f.header.status === 0));
    // After deregistering, nothing more arrives for those callbacks.
    await call(c, P.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, { callbackID: onlyA });
    await call(c, P.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, { callbackID: all });
    await call(c, P.CONNECT_DOMAIN_EVENT_DEREGISTER_ANY, { eventID: 0 });
    assert.equal(errorOf(await call(c, P.CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, { callbackID: all })).code, 8);
    c.frames.length = 0;
    await call(other, P.DOMAIN_DESTROY, { dom: a });
    await call(c, P.CONNECT_GET_TYPE, undefined);
    assert.equal(c.frames.filter((f) => f.header.type === 2).length, 0);
    for (const name of ['ev-a', 'ev-b']) {
      const dom = P.DOMAIN_LOOKUP_BY_NAME.ret.decode((await call(other, P.DOMAIN_LOOKUP_BY_NAME, { name })).payload).dom;
      await call(other, P.DOMAIN_UNDEFINE, { dom });
    }
    c.close();
    other.close();
  });

  test('lookups by UUID and id use the wire formats', async () => {
    const c = await opened(d.socket);
    const byId = P.DOMAIN_LOOKUP_BY_ID.ret.decode((await call(c, P.DOMAIN_LOOKUP_BY_ID, { id: 1 })).payload).dom;
    assert.equal(byId.name, 'test');
    assert.equal(byId.uuid.length, 16);
    const byUuid = P.DOMAIN_LOOKUP_BY_UUID.ret.decode((await call(c, P.DOMAIN_LOOKUP_BY_UUID, { uuid: byId.uuid })).payload).dom;
    assert.deepEqual(byUuid, byId);
    const e = errorOf(await call(c, P.DOMAIN_LOOKUP_BY_UUID, { uuid: uuidBytes('00000000-0000-0000-0000-000000000001') }));
    assert.equal(e.code, 42);
    const info = P.DOMAIN_GET_INFO.ret.decode((await call(c, P.DOMAIN_GET_INFO, { dom: byId })).payload);
    assert.equal(info.state, 1);
    assert.equal(typeof info.maxMem, 'bigint');
    c.close();
  });
});

test('maximum clients: connections beyond the limit are closed at once', async () => {
  const d = await startInProcess({ maxClients: 2 });
  try {
    const a = await opened(d.socket);
    const b = await opened(d.socket);
    const c = await RawClient.connect(d.socket);
    await c.waitClosed();
    a.close();
    b.close();
  } finally {
    await d.stop();
  }
});

test('frames are not mistaken across writes: a call split in one-byte writes is served', async () => {
  const d = await startInProcess();
  try {
    const c = await RawClient.connect(d.socket);
    const bytes = encodeFrame({ prog: 0x20008086, vers: 1, proc: P.CONNECT_OPEN.proc, type: 0, serial: 5, status: 0 }, P.CONNECT_OPEN.args, { name: 'test:///default', flags: 0 });
    for (const b of bytes) {
      c.write(Buffer.from([b]));
      await new Promise((r) => setImmediate(r));
    }
    assert.equal((await c.reply(5)).header.status, 0);
    c.close();
  } finally {
    await d.stop();
  }
});
