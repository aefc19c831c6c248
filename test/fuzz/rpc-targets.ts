/**
 * Fuzz targets for the RPC decoders (issue 10: "later the RPC decoder"): packets recorded from real
 * virsh sessions against libvirtd and virtkitd (test/rpc/fixtures), mutated as test/remote/fuzz.test.ts
 * does — bit flips, bytes, interesting words in the header and the payload, truncation, extension,
 * another procedure's payload under a header, length words that lie or are fixed up, several frames
 * in one chunk — plus raw bytes.
 * - `rpc-server`: what virtkitd does with a client's bytes: the frame reader, the header, then the
 *   called procedure's argument codec (and nothing left over).
 * - `rpc-client`: what the remote driver does with a server's bytes: frames, then a reply's return
 *   codec, an error reply's remote_error, or an event message's codec.
 * The property (the harness's): the call returns, or throws the protocol's error — FrameError (the
 * connection is closed) or XdrError (the call is answered with an error) — within the time bound.
 */
import fc from 'fast-check';
import { allProcedures } from '../../src/daemon/server.js';
import type { Codec } from '../../src/rpc/codec.js';
import { decRemoteError, remoteProcedures } from '../../src/rpc/generated/remote-protocol.js';
import { VirNetMessageStatus as Status, VirNetMessageType as Type } from '../../src/rpc/generated/virnet-protocol.js';
import { decodeFrame, FrameError, FrameReader } from '../../src/rpc/message.js';
import { fromWireError } from '../../src/rpc/wire.js';
import { XdrError } from '../../src/rpc/xdr.js';
import { loadRecorded } from '../rpc/recorded.js';
import type { FuzzTarget } from './targets.js';

/** Words that sit on bounds: lengths, counts, enum values, the frame limits (28 bytes, 4 MiB strings, 32 MiB frames). */
const INTERESTING = [0, 1, 2, 3, 4, 0x7f, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 27, 28, 29, 4194304, 4194305, 16384, 16385, 33554432, 33554433];

export type PacketOp =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'byte'; at: number; value: number }
  | { op: 'word'; at: number; value: number }
  | { op: 'header'; field: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'extend'; bytes: Uint8Array }
  | { op: 'splice'; other: number }
  | { op: 'inflate'; skip: number; value: number };

export interface PacketInput {
  base: number;
  ops: PacketOp[];
  /** Rewrite the length word to the packet's new size (else it may lie). */
  fixLength: boolean;
  /** Extra whole recorded packets sent after this one in the same chunk. */
  followers: number[];
}

const word = fc.oneof(fc.constantFrom(...INTERESTING), fc.nat({ max: 450 }), fc.integer({ min: 0, max: 0xffffffff }));

export const packetOp: fc.Arbitrary<PacketOp> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant('byte' as const), at: fc.nat(), value: fc.nat(255) }),
  fc.record({ op: fc.constant('word' as const), at: fc.nat(), value: word }),
  fc.record({ op: fc.constant('header' as const), field: fc.nat(5), value: word }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ op: fc.constant('splice' as const), other: fc.nat() }),
  fc.record({ op: fc.constant('inflate' as const), skip: fc.nat(8), value: word }),
);

const packetInput: fc.Arbitrary<PacketInput> = fc.record({
  base: fc.nat(),
  ops: fc.array(packetOp, { minLength: 1, maxLength: 4 }),
  fixLength: fc.boolean(),
  followers: fc.array(fc.nat(), { maxLength: 2 }),
});

let recorded: { c2s: Buffer[]; s2c: Buffer[] } | undefined;

function packets(dir: 'c2s' | 's2c'): Buffer[] {
  recorded ??= {
    c2s: loadRecorded().filter((f) => f.dir === 'c2s').map((f) => f.bytes),
    s2c: loadRecorded().filter((f) => f.dir === 's2c').map((f) => f.bytes),
  };
  return recorded[dir];
}

const pick = (xs: Buffer[], i: number): Buffer => xs[i % xs.length]!;

/** Applies the mutations to a recorded packet (positions wrap around its length). */
export function buildPacket(pool: Buffer[], input: PacketInput): Buffer {
  let b = Buffer.from(pick(pool, input.base));
  for (const m of input.ops) {
    const at = b.length === 0 ? 0 : ('at' in m ? m.at : 0) % b.length;
    switch (m.op) {
      case 'flip':
        if (at < b.length) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'byte':
        if (at < b.length) b[at] = m.value;
        break;
      case 'word': {
        const w = at - (at % 4);
        if (w + 4 <= b.length) b.writeUInt32BE(m.value, w);
        break;
      }
      case 'header': {
        // prog, vers, proc, type, serial or status
        const field = 4 + 4 * m.field;
        if (field + 4 <= b.length) b.writeUInt32BE(m.value, field);
        break;
      }
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'extend':
        b = Buffer.concat([b, m.bytes]);
        break;
      case 'splice':
        b = Buffer.concat([b.subarray(0, Math.min(28, b.length)), pick(pool, m.other).subarray(28)]);
        break;
      case 'inflate': {
        // A payload word that looks like a small length (string, array count, optional flag).
        let seen = 0;
        for (let w = 28; w + 4 <= b.length; w += 4) {
          if (b.readUInt32BE(w) < 64 && seen++ === m.skip) {
            b.writeUInt32BE(m.value, w);
            break;
          }
        }
      }
    }
  }
  if (input.fixLength && b.length >= 4) b.writeUInt32BE(b.length, 0);
  return Buffer.concat([b, ...input.followers.map((i) => pick(pool, i))]);
}

/** FrameError and XdrError are the decoders' documented failures. */
function protocolError(err: unknown): string | undefined {
  if (err instanceof FrameError) return 'FrameError';
  if (err instanceof XdrError) return 'XdrError';
  return undefined;
}

const bytesOr = (dir: 'c2s' | 's2c'): fc.Arbitrary<Buffer> =>
  fc.oneof(
    { weight: 12, arbitrary: packetInput.map((p) => buildPacket(packets(dir), p)) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)) },
  );

const serverTable = allProcedures();

const byProc = new Map<number, { args: Codec<unknown>; ret: Codec<unknown> }>();
for (const p of Object.values(remoteProcedures)) byProc.set(p.proc, { args: p.args as Codec<unknown>, ret: p.ret as Codec<unknown> });

/** Splits a chunk into frames as a connection would; throws FrameError as the reader does. */
function frames(bytes: Buffer): Buffer[] {
  return new FrameReader().push(bytes);
}

export const rpcTargets: FuzzTarget[] = [
  {
    name: 'rpc-server',
    stateful: false,
    input: bytesOr('c2s'),
    protocolError,
    call: async (bytes) => {
      let decoded = 0;
      for (const f of frames(bytes)) {
        const { header, payload } = decodeFrame(f);
        const handler = serverTable.get(header.proc);
        if (!handler || header.type !== Type.CALL || header.status !== Status.OK) continue;
        handler.info.args.decode(payload);
        payload.end();
        decoded++;
      }
      return decoded;
    },
  } as FuzzTarget<Buffer>,
  {
    name: 'rpc-client',
    stateful: false,
    input: bytesOr('s2c'),
    protocolError,
    call: async (bytes) => {
      const out: unknown[] = [];
      for (const f of frames(bytes)) {
        const { header, payload } = decodeFrame(f);
        const p = byProc.get(header.proc);
        if (header.type === Type.REPLY && header.status !== Status.OK) out.push(fromWireError(decRemoteError(payload)));
        else if (p && (header.type === Type.REPLY || header.type === Type.MESSAGE)) {
          // A reply carries the procedure's return value; an event message its arguments.
          out.push((header.type === Type.REPLY ? p.ret : p.args).decode(payload));
          payload.end();
        }
      }
      return out.length;
    },
  } as FuzzTarget<Buffer>,
];
