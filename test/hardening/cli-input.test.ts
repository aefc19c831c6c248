/** What the CLI reads is bounded and strictly UTF-8 (issue 10 item 7): files, devices, pipes and stdin scripts. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ErrorCode, isVirtError, xml } from '../../src/index.js';
import { MAIN, tempDir, virtkit } from '../cli/helpers.js';

/** Runs the CLI with stdin from a file descriptor or a buffer; the CLI may stop reading early (EPIPE is expected). */
async function run(args: string[], stdin: number | Buffer): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: [typeof stdin === 'number' ? stdin : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  if (typeof stdin !== 'number') {
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(stdin);
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

let tmp: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  tmp = await tempDir();
});
after(() => tmp.cleanup());

const LIMIT = 10 * 1024 * 1024;

test('define /dev/zero stops at the 10 MiB cap instead of reading forever', async () => {
  const r = await virtkit(['define', '/dev/zero'], { timeoutMs: 30_000 });
  assert.equal(r.code, 1, `exit ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^error: File '/dev/zero' is too large \\(limit ${LIMIT} bytes\\)\\n$`));
});

test('an XML file on stdin (/dev/stdin) is capped the same way', async () => {
  const r = await run(['attach-device', 'test', '/dev/stdin'], Buffer.alloc(LIMIT + 1, 0x20));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /File '\/dev\/stdin' is too large/);
  // Exactly at the cap is still read (and then judged as XML).
  const ok = await virtkit(['define', '/dev/stdin'], { input: `<domain type='test'><name>big</name><memory>1024</memory></domain>`.padEnd(LIMIT, ' ') });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Domain 'big' defined from \/dev\/stdin/);
});

test('a command script on stdin made of one endless line is refused at the cap', async () => {
  const zero = openSync('/dev/zero', 'r');
  try {
    const r = await run([], zero);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `error: line 1 of the input is too long (limit ${LIMIT} bytes)\n`);
  } finally {
    closeSync(zero);
  }
});

test('invalid UTF-8 in an XML file is an error naming the byte offset, not U+FFFD', async () => {
  const file = join(tmp.dir, 'latin1.xml');
  const head = Buffer.from("<domain type='test'><name>caf");
  await writeFile(file, Buffer.concat([head, Buffer.from([0xe9]), Buffer.from('</name><memory>1024</memory></domain>')]));
  const r = await virtkit(['define', file]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `error: malformed XML in ${file}: invalid UTF-8 at byte offset ${head.length} (bytes 0xE9 0x3C 0x2F 0x6E)\n`);
  const list = await virtkit(['define', file, ';', 'list', '--all', '--name']);
  assert.doesNotMatch(list.stdout, /caf/);
});

test('valid UTF-8 (BOM, multi-byte names) still reads; CRLF script lines still run', async () => {
  const file = join(tmp.dir, 'utf8.xml');
  await writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("<domain type='test'><name>café-😀</name><memory>1024</memory></domain>")]));
  const r = await virtkit([], { input: `define ${file}\r\nlist --all --name\r\n` });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^café-😀$/m);
});

test('invalid UTF-8 in a script line on stdin is an error, not a mangled command', async () => {
  const r = await run([], Buffer.concat([Buffer.from('echo ok\necho caf'), Buffer.from([0xe9, 0x0a]), Buffer.from('echo never\n')]));
  assert.equal(r.code, 1);
  assert.equal(r.stdout, 'ok\n', 'echo prints no blank line after itself, as in virsh');
  assert.equal(r.stderr, 'error: line 2 of the input is not valid UTF-8 (byte offset 8 of the line)\n');
});

test('the library decodes XML bytes strictly too (parseXml with a Buffer)', () => {
  const good = xml.parseXml(Buffer.from("<a b='é'/>"));
  assert.equal(good.attr('b'), 'é');
  for (const [bytes, at] of [
    [[0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e], 3],
    [[0x3c, 0x61, 0x3e, 0xc0, 0xaf, 0x3c, 0x2f, 0x61, 0x3e], 3], // overlong '/'
    [[0x3c, 0x61, 0x3e, 0xed, 0xa0, 0x80, 0x3c, 0x2f, 0x61, 0x3e], 3], // UTF-16 surrogate
    [[0x3c, 0x61, 0x3e, 0xe2, 0x82], 3], // truncated sequence
  ] as [number[], number][]) {
    assert.throws(
      () => xml.parseXml(Uint8Array.from(bytes)),
      (err: unknown) => isVirtError(err, ErrorCode.XML_DETAIL) && err.message.includes(`byte offset ${at}`),
    );
  }
  assert.throws(() => xml.parseXml(Buffer.alloc(LIMIT + 1, 0x20)), (err: unknown) => isVirtError(err, ErrorCode.XML_ERROR) && /too large/.test(err.message));
});
