/**
 * libvirt's RPC framing (virnetprotocol.x): a 4-byte big-endian length that counts itself, a 24-byte
 * header, then the XDR payload. The frame reader refuses a length outside libvirt's bounds before
 * buffering anything, so a peer can never make us hold more than one 32 MiB message.
 */
import type { Codec } from './codec.js';
import {
  decVirNetMessageHeader,
  encVirNetMessageHeader,
  VIR_NET_MESSAGE_HEADER_MAX,
  VIR_NET_MESSAGE_LEN_MAX,
  VIR_NET_MESSAGE_MAX,
  type VirNetMessageHeader,
} from './generated/virnet-protocol.js';
import { XdrError, XdrReader, XdrWriter } from './xdr.js';

export type Header = VirNetMessageHeader;

/** Smallest legal frame: the length word and the header, with an empty payload. */
export const MIN_FRAME = VIR_NET_MESSAGE_LEN_MAX + VIR_NET_MESSAGE_HEADER_MAX;
export const MAX_FRAME = VIR_NET_MESSAGE_MAX;

/** A framing violation: the connection it came from cannot be trusted any more. */
export class FrameError extends Error {
  override name = 'FrameError';
}

/**
 * Encodes one whole frame: length, header, payload. Into `w` when given (a writer reset for this
 * frame; the result is then a view of its buffer), else into a writer of its own.
 */
export function encodeFrame<T>(header: Header, codec: Codec<T>, body: T, maxFrame = MAX_FRAME, w = new XdrWriter(256)): Buffer {
  w.uint(0);
  encVirNetMessageHeader(w, header);
  codec.encode(w, body);
  if (w.length > maxFrame) throw new XdrError(`message of ${w.length} bytes exceeds the limit of ${maxFrame}`);
  w.patchUint(0, w.length);
  // A writer of its own is dropped here, so its bytes need no copy.
  return w.bytes();
}

/** A frame split into its header and a reader positioned on its payload. */
export interface Frame {
  header: Header;
  payload: XdrReader;
  /** The whole frame, length word included. */
  bytes: Buffer;
}

export function decodeFrame(bytes: Buffer): Frame {
  const payload = new XdrReader(bytes, VIR_NET_MESSAGE_LEN_MAX);
  const header = decVirNetMessageHeader(payload);
  return { header, payload, bytes };
}

/**
 * Cuts a byte stream into frames. `push` returns the complete frames received so far and throws a
 * FrameError as soon as a length word is out of bounds. A frame that arrived whole in one chunk is
 * a view into that chunk (the usual case: one call per read), so the chunk must not be changed
 * afterwards; only bytes that wait for the rest of their frame are copied.
 */
export class FrameReader {
  #buf: Buffer = Buffer.alloc(0);
  #start = 0;
  #end = 0;
  readonly #max: number;

  constructor(maxFrame = MAX_FRAME) {
    this.#max = maxFrame;
  }

  /** Bytes received and not yet returned as a frame. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    if (this.#end > this.#start) {
      // A frame started in an earlier chunk: complete it (and whatever follows) in the buffer.
      this.#append(chunk);
      this.#cut(this.#buf, this.#start, this.#end, frames, true);
      if (this.#start === this.#end) {
        this.#start = 0;
        this.#end = 0;
        if (this.#buf.length > 1 << 20) this.#buf = Buffer.alloc(0);
      }
      return frames;
    }
    const at = this.#cut(chunk, 0, chunk.length, frames, false);
    if (at < chunk.length) {
      this.#start = 0;
      this.#end = 0;
      this.#append(chunk.subarray(at));
    }
    return frames;
  }

  /** Appends the whole frames in `buf[from, to)` to `frames`; returns where the first incomplete one starts. */
  #cut(buf: Buffer, from: number, to: number, frames: Buffer[], own: boolean): number {
    let at = from;
    while (to - at >= 4) {
      const len = buf.readUInt32BE(at);
      if (len < MIN_FRAME) throw new FrameError(`packet of ${len} bytes is too small (minimum ${MIN_FRAME})`);
      if (len > this.#max) throw new FrameError(`packet of ${len} bytes is too large (maximum ${this.#max})`);
      if (to - at < len) break;
      // The reader's own buffer is reused, so frames cut from it are copies.
      frames.push(own ? Buffer.from(buf.subarray(at, at + len)) : buf.subarray(at, at + len));
      at += len;
      if (own) this.#start = at;
    }
    return at;
  }

  #append(chunk: Buffer): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      const size = Math.max(live + chunk.length, Math.min(this.#buf.length * 2, this.#max + 4096), 4096);
      if (live + chunk.length <= this.#buf.length) this.#buf.copyWithin(0, this.#start, this.#end);
      else {
        const next = Buffer.allocUnsafe(size);
        this.#buf.copy(next, 0, this.#start, this.#end);
        this.#buf = next;
      }
      this.#start = 0;
      this.#end = live;
    }
    chunk.copy(this.#buf, this.#end);
    this.#end += chunk.length;
  }
}
