/**
 * What the CLI reads from files and stdin, bounded: an XML file is read in chunks and refused as soon
 * as it passes the library's 10 MiB limit (so `define /dev/zero` or an endless pipe stops at once),
 * then decoded as strict UTF-8; command lines on stdin are capped the same way.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ErrorCode, ErrorDomain, VirtError } from '../errors.js';
import { decodeXmlBytes, invalidUtf8Offset, MAX_XML_BYTES } from '../xml/index.js';

const errnoText: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EMFILE: 'Too many open files',
};

const CHUNK = 64 * 1024;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function tooLarge(path: string, limit: number): VirtError {
  return new VirtError(ErrorCode.SYSTEM_ERROR, `File '${path}' is too large (limit ${limit} bytes)`, { domain: ErrorDomain.NONE });
}

/** Reads at most `limit` bytes of a stream; one byte more is an error and reading stops there. */
export async function readBoundedStream(input: Readable, name: string, limit = MAX_XML_BYTES): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let used = 0;
  for await (const chunk of input) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(buf);
    used += buf.length;
    if (used > limit) {
      input.destroy();
      throw tooLarge(name, limit);
    }
  }
  return Buffer.concat(chunks, used);
}

/** Paths naming this process's standard input: read through the stream (opening them fails when stdin is a socket). */
const STDIN_PATHS = new Set(['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);

/** Reads at most `limit` bytes of `path` (a file, device, FIFO or /dev/stdin); one byte more is an error. */
export async function readBounded(path: string, limit = MAX_XML_BYTES): Promise<Uint8Array> {
  if (STDIN_PATHS.has(path)) return readBoundedStream(process.stdin, path, limit);
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    // Chunk by chunk, whatever size the file claims (devices and pipes claim 0): never past the cap + 1 chunk.
    const chunks: Buffer[] = [];
    let used = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await handle.read(chunk, 0, CHUNK, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      used += bytesRead;
      if (used > limit) throw tooLarge(path, limit);
    }
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, used);
  } catch (err) {
    if (err instanceof VirtError) throw err;
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const why = errnoText[code] ?? (err instanceof Error ? err.message : String(err));
    throw new VirtError(ErrorCode.SYSTEM_ERROR, `Failed to open file '${path}': ${why}`, { domain: ErrorDomain.NONE, cause: err });
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** An XML file as text: bounded read, then strict UTF-8 (bad bytes are VIR_ERR_XML_DETAIL naming the offset). */
export async function readXmlFile(path: string, limit = MAX_XML_BYTES): Promise<string> {
  return decodeXmlBytes(await readBounded(path, limit), path, limit);
}

/**
 * Lines of a stream (newline-terminated; a final line without one counts), each at most `maxLine`
 * bytes: a longer line is an error instead of an ever-growing buffer. Lines must be UTF-8 (no silent U+FFFD).
 */
export async function* boundedLines(input: Readable, maxLine = MAX_XML_BYTES): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let size = 0;
  let lineNo = 0;
  const finish = (tail: Buffer): string => {
    const bytes = parts.length === 0 ? tail : Buffer.concat([...parts, tail]);
    parts = [];
    size = 0;
    lineNo++;
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    const line = bytes.subarray(0, end);
    try {
      return strictUtf8.decode(line);
    } catch {
      const at = invalidUtf8Offset(line);
      throw new VirtError(ErrorCode.INVALID_ARG, `line ${lineNo} of the input is not valid UTF-8 (byte offset ${at} of the line)`, { domain: ErrorDomain.NONE });
    }
  };
  for await (const chunk of input) {
    let buf: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    for (let nl = buf.indexOf(0x0a); nl >= 0; nl = buf.indexOf(0x0a)) {
      if (size + nl > maxLine) throw lineTooLong(lineNo + 1, maxLine);
      yield finish(buf.subarray(0, nl));
      buf = buf.subarray(nl + 1);
    }
    if (buf.length > 0) {
      size += buf.length;
      if (size > maxLine) throw lineTooLong(lineNo + 1, maxLine);
      parts.push(buf);
    }
  }
  if (size > 0) yield finish(Buffer.alloc(0));
}

function lineTooLong(lineNo: number, limit: number): VirtError {
  return new VirtError(ErrorCode.INVALID_ARG, `line ${lineNo} of the input is too long (limit ${limit} bytes)`, { domain: ErrorDomain.NONE });
}
