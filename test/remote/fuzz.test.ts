/**
 * Fuzzing the daemon's decoder with packets from real virsh sessions (test/rpc/fixtures), mutated:
 * bit flips, bytes, interesting words in the header and payload, truncation, extension, payloads
 * spliced under other procedures' headers, length words that lie.
 *
 * 1. Decoder level: every mutated packet goes through the frame reader, header and argument codecs;
 *    the only errors allowed are FrameError/XdrError.
 * 2. Live: the same packets go to a running virtkitd process over unix sockets from several
 *    connections at once, each followed by a valid call (a sentinel) that must be answered, unless
 *    the packet is one that must close the connection (then it must close) or is incomplete (then
 *    the fuzzer hangs up). Meanwhile a bystander client keeps working and its slowest call is
 *    bounded; at the end the daemon is alive, serves a new client and holds no stale connections.
 *
 * VIRTKIT_FUZZ_PACKETS sets the count (default 100,000); VIRTKIT_FUZZ_SEED the seed.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { allProcedures } from '../../src/daemon/server.js';
import { voidCodec } from '../../src/rpc/codec.js';
import { remoteProcedures as P } from '../../src/rpc/generated/remote-protocol.js';
import { decodeFrame, encodeFrame, FrameError, FrameReader } from '../../src/rpc/message.js';
import { XdrError } from '../../src/rpc/xdr.js';
import { loadRecorded } from '../rpc/recorded.js';
import { RawClient, startDaemonProcess } from './helpers.js';

const COUNT = Number(process.env['VIRTKIT_FUZZ_PACKETS'] ?? 100_000);
const SEED = Number(process.env['VIRTKIT_FUZZ_SEED'] ?? 0x5eed8);
const WORKERS = 4;
const SENTINEL_TIMEOUT_MS = 10_000;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INTERESTING = [0, 1, 2, 3, 4, 0x7f, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 27, 28, 29, 4194304, 4194305, 16384, 16385, 33554432, 33554433];

/** Mutates one recorded client packet. */
function mutate(base: Buffer, other: Buffer, r: () => number): Buffer {
  let b = Buffer.from(base);
  const ops = 1 + Math.floor(r() * 3);
  let fixLength = r() < 0.7;
  for (let i = 0; i < ops; i++) {
    const op = Math.floor(r() * 9);
    const at = Math.floor(r() * b.length);
    switch (op) {
      case 0:
        if (at < b.length) b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
        break;
      case 1:
        if (at < b.length) b[at] = Math.floor(r() * 256);
        break;
      case 2: {
        const w = Math.floor((r() * b.length) / 4) * 4;
        if (w + 4 <= b.length) b.writeUInt32BE(INTERESTING[Math.floor(r() * INTERESTING.length)]!, w);
        break;
      }
      case 3: {
        // A header field: prog, vers, proc, type, serial or status.
        const field = 4 + 4 * Math.floor(r() * 6);
        if (field + 4 <= b.length)
          b.writeUInt32BE(r() < 0.5 ? INTERESTING[Math.floor(r() * INTERESTING.length)]! : Math.floor(r() * 450), field);
        break;
      }
      case 4:
        b = b.subarray(0, Math.floor(r() * b.length));
        break;
      case 5:
        b = Buffer.concat([b, Buffer.from(Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256)))]);
        break;
      case 6:
        // Another procedure's payload under this header.
        b = Buffer.concat([b.subarray(0, Math.min(28, b.length)), other.subarray(28)]);
        break;
      case 7:
        fixLength = !fixLength;
        break;
      default: {
        // Inflate a payload word that looks like a small length (string, array count, optional flag).
        for (let w = 28; w + 4 <= b.length; w += 4) {
          if (b.readUInt32BE(w) < 64 && r() < 0.3) {
            b.writeUInt32BE(INTERESTING[Math.floor(r() * INTERESTING.length)]!, w);
            break;
          }
        }
      }
    }
  }
  if (fixLength && b.length >= 4) b.writeUInt32BE(b.length, 0);
  return b;
}

function corpus(): Buffer[] {
  return loadRecorded()
    .filter((f) => f.dir === 'c2s')
    .map((f) => f.bytes);
}

function packets(n: number): Buffer[] {
  const base = corpus();
  const r = rng(SEED);
  return Array.from({ length: n }, () => mutate(base[Math.floor(r() * base.length)]!, base[Math.floor(r() * base.length)]!, r));
}

/** How the daemon's framing will see `pkt`: refused at once, incomplete (waiting for more), or whole frames. */
function framing(pkt: Buffer): 'refused' | 'incomplete' | 'frames' {
  const reader = new FrameReader();
  try {
    reader.push(pkt);
  } catch (err) {
    if (err instanceof FrameError) return 'refused';
    throw err;
  }
  return reader.buffered > 0 ? 'incomplete' : 'frames';
}

test(`fuzz, decoder level: ${COUNT} mutated packets from recorded virsh sessions raise only framing/XDR errors`, () => {
  const table = allProcedures();
  const tally = { refused: 0, incomplete: 0, undecodable: 0, decoded: 0, unknownProc: 0 };
  const t0 = performance.now();
  let slowest = 0;
  for (const pkt of packets(COUNT)) {
    const s = performance.now();
    const reader = new FrameReader();
    let frames: Buffer[];
    try {
      frames = reader.push(pkt);
    } catch (err) {
      assert.ok(err instanceof FrameError, `unexpected ${String(err)}`);
      tally.refused++;
      continue;
    }
    if (frames.length === 0) tally.incomplete++;
    for (const f of frames) {
      const { header, payload } = decodeFrame(f);
      const h = table.get(header.proc);
      if (!h) {
        tally.unknownProc++;
        continue;
      }
      try {
        h.info.args.decode(payload);
        payload.end();
        tally.decoded++;
      } catch (err) {
        assert.ok(err instanceof XdrError, `procedure ${header.proc}: unexpected ${String(err)}`);
        tally.undecodable++;
      }
    }
    slowest = Math.max(slowest, performance.now() - s);
  }
  const ms = performance.now() - t0;
  console.log(`decoder fuzz: ${COUNT} packets in ${ms.toFixed(0)} ms, slowest ${slowest.toFixed(2)} ms: ${JSON.stringify(tally)}`);
  assert.ok(slowest < 500, `one packet took ${slowest} ms`);
  assert.ok(tally.refused > 0 && tally.undecodable > 0 && tally.decoded > 0 && tally.incomplete > 0, 'the mutations reach every path');
});

/** A fuzzing connection: knows only whether its sentinel came back and whether it was closed. */
class FuzzConn {
  readonly socket: net.Socket;
  #reader = new FrameReader();
  #wait: { serial: number; resolve: (r: 'reply' | 'error' | 'closed') => void } | undefined;
  closed = false;

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      let frames: Buffer[] = [];
      try {
        frames = this.#reader.push(d);
      } catch {
        socket.destroy();
      }
      for (const f of frames) {
        const { header } = decodeFrame(f);
        if (this.#wait && header.type === 1 && header.serial === this.#wait.serial) {
          const w = this.#wait;
          this.#wait = undefined;
          w.resolve(header.status === 0 ? 'reply' : 'error');
        }
      }
    });
    socket.on('close', () => {
      this.closed = true;
      const w = this.#wait;
      this.#wait = undefined;
      w?.resolve('closed');
    });
    socket.on('error', () => undefined);
  }

  static async open(path: string): Promise<FuzzConn> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(path);
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    const c = new FuzzConn(socket);
    const r = await c.callAndWait(encodeFrame({ prog: 0x20008086, vers: 1, proc: P.CONNECT_OPEN.proc, type: 0, serial: 0xfffffff0, status: 0 }, P.CONNECT_OPEN.args, { name: 'test:///default', flags: 0 }), 0xfffffff0);
    assert.equal(r, 'reply');
    return c;
  }

  /** Writes `bytes` and waits for the reply to `serial` (or the close). */
  callAndWait(bytes: Buffer, serial: number): Promise<'reply' | 'error' | 'closed' | 'timeout'> {
    if (this.closed) return Promise.resolve('closed');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wait = undefined;
        resolve('timeout');
      }, SENTINEL_TIMEOUT_MS);
      this.#wait = {
        serial,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.socket.write(bytes);
    });
  }

  waitClosed(): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), SENTINEL_TIMEOUT_MS);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

test(`fuzz, live: ${COUNT} mutated packets against a running virtkitd; no crash, no hang, other clients unaffected`, { timeout: 900_000 }, async () => {
  const d = await startDaemonProcess(['--unplug-timeout', '100', '--max-clients', '100']);
  const tally = { answered: 0, closedAsExpected: 0, hungUp: 0, reopened: 0 };
  const failures: string[] = [];
  let stop = false;
  // The bystander: an ordinary client doing define/getXMLDesc/undefine throughout.
  const bystander = (async () => {
    const c = await RawClient.connect(d.socket);
    let serial = 1;
    const call = async <A>(proc: { proc: number; args: { encode(w: never, v: A): void } }, args: A) => {
      const s = ++serial;
      c.send({ proc: proc.proc, serial: s }, proc.args as never, args as never);
      const f = await c.reply(s);
      c.frames.length = 0;
      return f;
    };
    await call(P.CONNECT_OPEN, { name: 'test:///default', flags: 0 });
    let rounds = 0;
    let slowest = 0;
    while (!stop) {
      const t = performance.now();
      const def = await call(P.DOMAIN_DEFINE_XML, { xml: `<domain type='test'><name>bystander</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>` });
      if (def.header.status !== 0) throw new Error('bystander define failed');
      const dom = P.DOMAIN_DEFINE_XML.ret.decode(def.payload).dom;
      const x = await call(P.DOMAIN_GET_XML_DESC, { dom, flags: 0 });
      if (!P.DOMAIN_GET_XML_DESC.ret.decode(x.payload).xml.includes('<name>bystander</name>')) throw new Error('bystander XML wrong');
      if ((await call(P.DOMAIN_UNDEFINE, { dom })).header.status !== 0) throw new Error('bystander undefine failed');
      slowest = Math.max(slowest, performance.now() - t);
      rounds++;
      await new Promise((r) => setTimeout(r, 5));
    }
    c.close();
    return { rounds, slowest };
  })();

  const all = packets(COUNT);
  let next = 0;
  const t0 = performance.now();
  const worker = async (w: number) => {
    let conn = await FuzzConn.open(d.socket);
    let sentinel = 0x7fff0000 + w * 0x10000;
    while (next < all.length && failures.length === 0) {
      const i = next++;
      const pkt = all[i]!;
      const kind = framing(pkt);
      if (kind === 'incomplete') {
        conn.socket.write(pkt);
        conn.socket.destroy();
        tally.hungUp++;
      } else if (kind === 'refused') {
        conn.socket.write(pkt);
        if (await conn.waitClosed()) tally.closedAsExpected++;
        else failures.push(`packet ${i}: a bad length word did not close the connection`);
      } else {
        const s = ++sentinel;
        const probe = encodeFrame({ prog: 0x20008086, vers: 1, proc: P.CONNECT_GET_TYPE.proc, type: 0, serial: s, status: 0 }, voidCodec, undefined);
        const r = await conn.callAndWait(Buffer.concat([pkt, probe]), s);
        if (r === 'timeout') failures.push(`packet ${i} (${pkt.toString('hex').slice(0, 120)}): no answer within ${SENTINEL_TIMEOUT_MS} ms`);
        else if (r === 'reply') {
          tally.answered++;
          continue;
        } else tally.closedAsExpected++;
      }
      if (!conn.closed) conn.socket.destroy();
      conn = await FuzzConn.open(d.socket);
      tally.reopened++;
    }
    conn.socket.destroy();
  };
  try {
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    stop = true;
    const by = await bystander;
    const ms = performance.now() - t0;
    console.log(`live fuzz: ${COUNT} packets in ${(ms / 1000).toFixed(1)} s over ${WORKERS} connections: ${JSON.stringify(tally)}; bystander ${by.rounds} rounds, slowest ${by.slowest.toFixed(0)} ms`);
    assert.deepEqual(failures, []);
    assert.equal(d.child.exitCode, null, `virtkitd exited: ${d.stderr().slice(-2000)}`);
    assert.ok(by.rounds > 0);
    assert.ok(by.slowest < 5000, `the bystander waited ${by.slowest} ms for one round`);
    // Alive, serving, and every fuzz connection is gone from the daemon.
    const fresh = await FuzzConn.open(d.socket);
    fresh.socket.destroy();
    assert.doesNotMatch(d.stderr(), /TypeError|RangeError|ReferenceError|uncaught|unhandled/i);
  } finally {
    stop = true;
    await bystander.catch(() => undefined);
    const code = await d.stop();
    assert.equal(code, 0, 'virtkitd did not shut down cleanly');
  }
});
