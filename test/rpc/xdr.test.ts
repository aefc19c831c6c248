/** The XDR codec: RFC 4506 layouts byte for byte, and a reader that refuses every malformed input. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XdrError, XdrReader, XdrWriter } from '../../src/rpc/xdr.js';

const hex = (w: XdrWriter): string => w.bytes().toString('hex');
const reader = (h: string): XdrReader => new XdrReader(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

test('integers, hypers, floats and bools are big-endian 4/8-byte units', () => {
  const w = new XdrWriter(4);
  w.int(-2);
  w.uint(0xdeadbeef);
  w.hyper(-3n);
  w.uhyper(0x0102030405060708n);
  w.bool(true);
  w.double(1.5);
  w.float(0.5);
  assert.equal(hex(w), 'fffffffe' + 'deadbeef' + 'fffffffffffffffd' + '0102030405060708' + '00000001' + '3ff8000000000000' + '3f000000');
  const r = new XdrReader(Buffer.from(w.bytes()));
  assert.deepEqual([r.int(), r.uint(), r.hyper(), r.uhyper(), r.bool(), r.double(), r.float()], [-2, 0xdeadbeef, -3n, 0x0102030405060708n, true, 1.5, 0.5]);
  r.end();
});

test('strings and opaques carry a length and zero padding to 4 bytes; UTF-8 counts bytes', () => {
  const w = new XdrWriter();
  w.string('abcde', 10);
  w.string('é', 10);
  w.opaque(Buffer.from([1, 2, 3]), 8);
  w.fixedOpaque(Buffer.alloc(16, 0xaa), 16);
  assert.equal(hex(w), '00000005' + '6162636465000000' + '00000002' + 'c3a90000' + '00000003' + '01020300' + 'aa'.repeat(16));
  const r = new XdrReader(Buffer.from(w.bytes()));
  assert.equal(r.string(10), 'abcde');
  assert.equal(r.string(10), 'é');
  assert.deepEqual([...r.opaque(8)], [1, 2, 3]);
  assert.equal(r.fixedOpaque(16).length, 16);
  r.end();
});

test('arrays: a count then the items; optional values: a 0/1 flag then the value', () => {
  const w = new XdrWriter();
  w.array([7, 8], 4, (w, x) => w.int(x));
  w.bool(false);
  w.bool(true);
  w.string('x', 4);
  assert.equal(hex(w), '00000002' + '00000007' + '00000008' + '00000000' + '00000001' + '00000001' + '78000000');
  const r = new XdrReader(Buffer.from(w.bytes()));
  assert.deepEqual(r.array(4, (r) => r.int()), [7, 8]);
  assert.equal(r.present(), false);
  assert.equal(r.present() ? r.string(4) : null, 'x');
});

test('the writer refuses values its declaration cannot hold', () => {
  const w = new XdrWriter();
  assert.throws(() => w.string('toolong', 3), XdrError);
  assert.throws(() => w.int(2 ** 31), XdrError);
  assert.throws(() => w.int(1.5), XdrError);
  assert.throws(() => w.uint(-1), XdrError);
  assert.throws(() => w.array([1, 2, 3], 2, (w, x) => w.int(x)), XdrError);
  assert.throws(() => w.fixedOpaque(Buffer.alloc(3), 16), XdrError);
});

test('strings are limited by their UTF-8 bytes, short or long; a refused one leaves the writer as it was', () => {
  const w = new XdrWriter(16);
  w.uint(7);
  assert.throws(() => w.string('éé', 3), /string of 4 bytes exceeds the limit of 3/);
  assert.throws(() => w.string('é'.repeat(40_000), 70_000), /string of 80000 bytes exceeds the limit of 70000/);
  assert.equal(hex(w), '00000007');
  w.string('€', 3);
  const long = `${'ab€'.repeat(30_000)}z`;
  w.string(long, 200_000);
  w.string('\ud800', 3);
  const r = new XdrReader(Buffer.from(w.bytes()));
  assert.deepEqual([r.uint(), r.string(3), r.string(200_000), r.string(3)], [7, '€', long, '\ufffd']);
  r.end();
});

test('the reader decodes strings as the WHATWG UTF-8 decoder does: bad bytes become U+FFFD, a leading byte-order mark is dropped', () => {
  const td = new TextDecoder('utf-8');
  const cases = ['41c3', 'c0af41', 'eda080', 'f4908080', 'e282', 'efbbbf41', 'efbbbf', '41efbbbf42', 'ff', ''];
  for (const h of cases) {
    const bytes = Buffer.from(h, 'hex');
    const w = new XdrWriter();
    w.opaque(bytes, 100);
    assert.equal(new XdrReader(Buffer.from(w.bytes())).string(100), td.decode(bytes), h);
  }
  assert.equal(reader('00000004 efbbbf41').string(10), 'A');
  assert.equal(reader('00000002 c3a9 0000').string(10), 'é');
});

test('a reset writer starts over, in its buffer or in a new one', () => {
  const w = new XdrWriter(16);
  w.string('first message', 100);
  const first = w.bytes();
  const copy = Buffer.from(first);
  w.reset(64);
  w.string('second', 100);
  assert.deepEqual(first, copy, 'a writer given a new buffer leaves the old bytes alone');
  assert.equal(w.capacity, 64);
  w.reset();
  w.uint(1);
  assert.equal(hex(w), '00000001');
});

test('the reader refuses truncation, oversized lengths, bad flags and trailing bytes', () => {
  const cases: [string, (r: XdrReader) => unknown, RegExp][] = [
    ['000000', (r) => r.int(), /truncated int/],
    ['00000001', (r) => r.hyper(), /truncated hyper/],
    ['00000005 616263', (r) => r.string(10), /truncated string/],
    ['00000005 6162636465', (r) => r.string(10), /truncated string/],
    ['0000000b', (r) => r.string(10), /exceeds the limit of 10/],
    ['ffffffff', (r) => r.opaque(2 ** 32), /truncated opaque/],
    ['00000002', (r) => r.bool(), /bad bool/],
    ['00000007', (r) => r.present(), /bad optional-data flag/],
    ['00000005', (r) => r.array(4, (r) => r.int()), /exceeds the limit of 4/],
    // A count the remaining bytes cannot hold is refused before any allocation.
    ['7fffffff 00000000', (r) => r.array(2 ** 31, (r) => r.int()), /truncated array/],
    ['00000001 00000002', (r) => {
        r.int();
        r.end();
      }, /4 unexpected trailing bytes/],
  ];
  for (const [bytes, read, re] of cases) assert.throws(() => read(reader(bytes)), (e: unknown) => e instanceof XdrError && re.test(e.message), bytes);
});

test('a reader on a window of a buffer never reads outside it', () => {
  const buf = Buffer.from('0000000100000002ffffffff', 'hex');
  const r = new XdrReader(buf, 4, 8);
  assert.equal(r.int(), 2);
  assert.throws(() => r.int(), /truncated/);
});
