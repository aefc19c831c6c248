/** Framing: libvirt's length word + header + payload, cut from a byte stream in any chunking. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { voidCodec } from '../../src/rpc/codec.js';
import { remoteProcedures } from '../../src/rpc/generated/remote-protocol.js';
import { decodeFrame, encodeFrame, FrameError, FrameReader, MAX_FRAME, MIN_FRAME } from '../../src/rpc/message.js';

const callHeader = (proc: number, serial: number) => ({ prog: 0x20008086, vers: 1, proc, type: 0, serial, status: 0 });

test('a call frame is length, six header words, payload', () => {
  const frame = encodeFrame(callHeader(66, 0), voidCodec, undefined);
  // AUTH_LIST as virsh sends it first: 28 bytes, REMOTE_PROGRAM, version 1, procedure 66.
  assert.equal(frame.toString('hex'), '0000001c' + '20008086' + '00000001' + '00000042' + '00000000' + '00000000' + '00000000');
  const open = remoteProcedures.CONNECT_OPEN;
  const f2 = encodeFrame(callHeader(open.proc, 7), open.args, { name: 'test:///default', flags: 0 });
  const d = decodeFrame(f2);
  assert.deepEqual(d.header, callHeader(1, 7));
  assert.deepEqual(open.args.decode(d.payload), { name: 'test:///default', flags: 0 });
  d.payload.end();
});

test('the frame reader reassembles frames split at every byte and glued together', () => {
  const open = remoteProcedures.CONNECT_OPEN;
  const frames = [1, 2, 3].map((s) => encodeFrame(callHeader(1, s), open.args, { name: `uri-${'x'.repeat(s * 5)}`, flags: s }));
  const stream = Buffer.concat(frames);
  for (const step of [1, 3, 7, 28, stream.length]) {
    const reader = new FrameReader();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i += step) got.push(...reader.push(stream.subarray(i, i + step)));
    assert.deepEqual(got, frames, `chunks of ${step}`);
    assert.equal(reader.buffered, 0);
  }
});

test('a chunk ending inside a frame keeps only that part: earlier chunks can be reused', () => {
  const open = remoteProcedures.CONNECT_OPEN;
  const frames = [1, 2, 3].map((s) => encodeFrame(callHeader(1, s), open.args, { name: `uri-${s}`, flags: s }));
  const stream = Buffer.concat(frames);
  const cut = frames[0]!.length + 5;
  const reader = new FrameReader();
  const chunk = Buffer.from(stream.subarray(0, cut));
  const got = reader.push(chunk);
  assert.deepEqual(got, [frames[0]]);
  assert.equal(reader.buffered, 5);
  chunk.fill(0xee, frames[0]!.length);
  assert.deepEqual(reader.push(stream.subarray(cut)), frames.slice(1));
  assert.equal(reader.buffered, 0);
});

test('lengths outside libvirt bounds are refused as soon as the length word arrives', () => {
  const word = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  assert.throws(() => new FrameReader().push(word(MIN_FRAME - 1)), FrameError);
  assert.throws(() => new FrameReader().push(word(0)), /too small/);
  assert.throws(() => new FrameReader().push(word(MAX_FRAME + 1)), /too large/);
  assert.throws(() => new FrameReader(1000).push(word(1001)), /too large \(maximum 1000\)/);
  assert.deepEqual(new FrameReader().push(word(MAX_FRAME)), []);
});

test('encoding a message over the limit fails instead of sending it', () => {
  const xml = remoteProcedures.DOMAIN_DEFINE_XML;
  assert.throws(() => encodeFrame(callHeader(xml.proc, 1), xml.args, { xml: 'x'.repeat(2000) }, 1000), /exceeds the limit of 1000/);
});
