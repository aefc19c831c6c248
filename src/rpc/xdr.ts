/**
 * XDR (RFC 4506) as libvirt's RPC uses it: big-endian 4-byte units, strings and opaques padded to 4.
 * The reader trusts nothing: every read is bounds-checked, every length is checked against the
 * declared maximum and against the bytes actually left, so a hostile packet costs at most its size.
 */

/** A packet that does not decode: truncated, over a declared limit, or otherwise malformed. */
export class XdrError extends Error {
  override name = 'XdrError';
}

const utf8 = new TextDecoder('utf-8');

function pad(n: number): number {
  return (4 - (n & 3)) & 3;
}

export class XdrReader {
  readonly #buf: Buffer;
  #pos: number;
  readonly #end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  get remaining(): number {
    return this.#end - this.#pos;
  }

  get position(): number {
    return this.#pos;
  }

  #need(n: number, what: string): number {
    if (n > this.#end - this.#pos) throw new XdrError(`truncated ${what}: need ${n} bytes, ${this.#end - this.#pos} left`);
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  int(): number {
    return this.#buf.readInt32BE(this.#need(4, 'int'));
  }

  uint(): number {
    return this.#buf.readUInt32BE(this.#need(4, 'unsigned int'));
  }

  hyper(): bigint {
    return this.#buf.readBigInt64BE(this.#need(8, 'hyper'));
  }

  uhyper(): bigint {
    return this.#buf.readBigUInt64BE(this.#need(8, 'unsigned hyper'));
  }

  float(): number {
    return this.#buf.readFloatBE(this.#need(4, 'float'));
  }

  double(): number {
    return this.#buf.readDoubleBE(this.#need(8, 'double'));
  }

  bool(): boolean {
    const v = this.uint();
    if (v > 1) throw new XdrError(`bad bool value ${v}`);
    return v === 1;
  }

  /** The discriminant of an optional value (`type *name`): 0 absent, 1 present. */
  present(): boolean {
    const v = this.uint();
    if (v > 1) throw new XdrError(`bad optional-data flag ${v}`);
    return v === 1;
  }

  /** Element count of a variable-length array, at most `max` and never more than the bytes left could hold. */
  count(max: number, minItemBytes = 4): number {
    const n = this.uint();
    if (n > max) throw new XdrError(`array of ${n} items exceeds the limit of ${max}`);
    if (n * minItemBytes > this.#end - this.#pos) throw new XdrError(`truncated array: ${n} items announced`);
    return n;
  }

  string(max: number): string {
    const n = this.uint();
    if (n > max) throw new XdrError(`string of ${n} bytes exceeds the limit of ${max}`);
    const at = this.#need(n + pad(n), 'string');
    const b = this.#buf;
    // A byte-order mark is dropped, as the WHATWG decoder does; otherwise toString decodes the
    // same (bad bytes as U+FFFD) without making a view of the bytes first.
    if (n >= 3 && b[at] === 0xef && b[at + 1] === 0xbb && b[at + 2] === 0xbf) return utf8.decode(b.subarray(at, at + n));
    return b.toString('utf8', at, at + n);
  }

  fixedOpaque(n: number): Buffer {
    const at = this.#need(n + pad(n), 'opaque');
    const out = Buffer.allocUnsafe(n);
    this.#buf.copy(out, 0, at, at + n);
    return out;
  }

  opaque(max: number): Buffer {
    const n = this.uint();
    if (n > max) throw new XdrError(`opaque of ${n} bytes exceeds the limit of ${max}`);
    return this.fixedOpaque(n);
  }

  /** A variable-length array of at most `max` items. */
  array<T>(max: number, item: (r: XdrReader) => T): T[] {
    const n = this.count(max);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  /** A fixed-length array of exactly `n` items. */
  fixedArray<T>(n: number, item: (r: XdrReader) => T): T[] {
    if (n * 4 > this.#end - this.#pos) throw new XdrError(`truncated array of ${n} items`);
    const out = new Array<T>(n);
    for (let i = 0; i < n; i++) out[i] = item(this);
    return out;
  }

  /** Fails when bytes are left over: a payload must be exactly its declared type. */
  end(): void {
    if (this.#pos !== this.#end) throw new XdrError(`${this.#end - this.#pos} unexpected trailing bytes`);
  }
}

const MIN_CAPACITY = 256;
/** Strings up to this many UTF-16 units are encoded without measuring them first. */
const SHORT_STRING = 64 * 1024;

export class XdrWriter {
  #buf: Buffer;
  #pos = 0;

  constructor(capacity = MIN_CAPACITY) {
    this.#buf = Buffer.allocUnsafe(Math.max(capacity, 16));
  }

  get length(): number {
    return this.#pos;
  }

  #room(n: number): number {
    if (this.#pos + n > this.#buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
      this.#buf.copy(next, 0, 0, this.#pos);
      this.#buf = next;
    }
    const at = this.#pos;
    this.#pos += n;
    return at;
  }

  int(v: number): void {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new XdrError(`int out of range: ${v}`);
    const at = this.#room(4);
    this.#buf.writeInt32BE(v, at);
  }

  uint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new XdrError(`unsigned int out of range: ${v}`);
    const at = this.#room(4);
    this.#buf.writeUInt32BE(v, at);
  }

  hyper(v: bigint): void {
    const at = this.#room(8);
    this.#buf.writeBigInt64BE(BigInt.asIntN(64, v), at);
  }

  uhyper(v: bigint): void {
    const at = this.#room(8);
    this.#buf.writeBigUInt64BE(BigInt.asUintN(64, v), at);
  }

  float(v: number): void {
    const at = this.#room(4);
    this.#buf.writeFloatBE(v, at);
  }

  double(v: number): void {
    const at = this.#room(8);
    this.#buf.writeDoubleBE(v, at);
  }

  bool(v: boolean): void {
    this.uint(v ? 1 : 0);
  }

  count(n: number, max: number): void {
    if (n > max) throw new XdrError(`array of ${n} items exceeds the limit of ${max}`);
    this.uint(n);
  }

  string(v: string, max: number): void {
    // Short strings (nearly all) are written in one pass into room for their longest UTF-8 form,
    // the length word filled in after; long ones are measured first so the room is exact.
    if (v.length > SHORT_STRING) {
      const n = Buffer.byteLength(v, 'utf8');
      if (n > max) throw new XdrError(`string of ${n} bytes exceeds the limit of ${max}`);
      this.uint(n);
      const at = this.#room(n + pad(n));
      this.#buf.write(v, at, n, 'utf8');
      this.#zero(at + n, pad(n));
      return;
    }
    const start = this.#pos;
    this.#room(4 + v.length * 3);
    const n = this.#buf.write(v, start + 4, 'utf8');
    if (n > max) {
      this.#pos = start;
      throw new XdrError(`string of ${n} bytes exceeds the limit of ${max}`);
    }
    this.#buf.writeUInt32BE(n, start);
    this.#pos = start + 4 + n;
    this.#zero(this.#room(pad(n)), pad(n));
  }

  /** Padding bytes (0 to 3 of them): a loop, cheaper than a call to fill for so few. */
  #zero(at: number, n: number): void {
    for (let i = 0; i < n; i++) this.#buf[at + i] = 0;
  }

  fixedOpaque(v: Uint8Array, n: number): void {
    if (v.length !== n) throw new XdrError(`fixed opaque needs ${n} bytes, got ${v.length}`);
    const at = this.#room(n + pad(n));
    this.#buf.set(v, at);
    this.#zero(at + n, pad(n));
  }

  opaque(v: Uint8Array, max: number): void {
    if (v.length > max) throw new XdrError(`opaque of ${v.length} bytes exceeds the limit of ${max}`);
    this.uint(v.length);
    this.fixedOpaque(v, v.length);
  }

  array<T>(v: readonly T[], max: number, item: (w: XdrWriter, x: T) => void): void {
    this.count(v.length, max);
    for (const x of v) item(this, x);
  }

  fixedArray<T>(v: readonly T[], n: number, item: (w: XdrWriter, x: T) => void): void {
    if (v.length !== n) throw new XdrError(`fixed array needs ${n} items, got ${v.length}`);
    for (const x of v) item(this, x);
  }

  /** Overwrites a 4-byte unsigned value written earlier (a length prefix). */
  patchUint(at: number, v: number): void {
    this.#buf.writeUInt32BE(v, at);
  }

  /** The bytes written so far (a view, valid until the next write or reset). */
  bytes(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }

  /**
   * Starts over at position 0 for the next message. With a `capacity`, in a new buffer of that size:
   * for when the bytes of the last message may still be in use (a socket holding them until it can
   * send them), or to give back a buffer that grew large.
   */
  reset(capacity = 0): void {
    this.#pos = 0;
    if (capacity > 0) this.#buf = Buffer.allocUnsafe(Math.max(capacity, 16));
  }

  /** Size of the buffer the writer holds now. */
  get capacity(): number {
    return this.#buf.length;
  }
}
