/** Connection URIs and options: clear errors naming the bad part, bounded numbers (issue 10 items 6 and 8). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Connection, ErrorCode } from '../../src/index.js';
import { domainXml, rejectsWith } from './helpers.js';

test('bad URIs are clear errors', async () => {
  await rejectsWith(Connection.open('nonsense'), ErrorCode.INVALID_ARG, /invalid connection URI/);
  await rejectsWith(Connection.open('xen:///system'), ErrorCode.NO_SUPPORT, /no connection driver/);
  await rejectsWith(Connection.open('test:///default?bogus=1'), ErrorCode.INVALID_ARG, /unknown parameter 'bogus'/);
});

test('?unplugTimeout= must be milliseconds from 0 to one hour', async () => {
  for (const bad of ['99999999999', '-5', 'abc', 'soon', '', '1e3', '3600001']) {
    await rejectsWith(
      Connection.open(`test:///default?unplugTimeout=${bad}`),
      ErrorCode.INVALID_ARG,
      new RegExp(`invalid unplugTimeout '${bad.replace(/[-+.]/g, '\\$&')}' in URI: expected milliseconds from 0 to 3600000`),
    );
  }
  for (const good of ['0', '5000', '3600000']) await (await Connection.open(`test:///default?unplugTimeout=${good}`)).close();
});

test('the unplugTimeoutMs option is checked the same way', async () => {
  for (const bad of [99_999_999_999, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '100' as unknown as number]) {
    await rejectsWith(Connection.open('test:///default', { unplugTimeoutMs: bad }), ErrorCode.INVALID_ARG, /invalid unplugTimeoutMs .*: expected an integer number of milliseconds from 0 to 3600000/);
  }
  await (await Connection.open('test:///default', { unplugTimeoutMs: 0 })).close();
});

test('a relative ?state= folder is refused, naming it', async () => {
  await rejectsWith(Connection.open('test:///default?state=../../etc'), ErrorCode.INVALID_ARG, /state folder '\.\.\/\.\.\/etc' in URI .* must be an absolute path/);
  await rejectsWith(Connection.open('test:///default?state=vk'), ErrorCode.INVALID_ARG, /state folder 'vk'/);
  await rejectsWith(Connection.open('test:///default?state='), ErrorCode.INVALID_ARG, /empty state folder/);
});

test('a define that fails to commit leaves no phantom domain behind', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'virtkit-phantom-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const conn = await Connection.open(`test:///default?state=${dir}`);
  // A valid domain name whose state file cannot exist (longer than a file name may be).
  const long = 'x'.repeat(250);
  await rejectsWith(conn.defineXML(domainXml({ name: long })), ErrorCode.INVALID_ARG, /too long/);
  await rejectsWith(conn.lookupByName(long), ErrorCode.NO_DOMAIN);
  assert.deepEqual((await conn.listAllDomains()).map((d) => d.name), ['test']);
  await rejectsWith(conn.createXML(domainXml({ name: long })), ErrorCode.INVALID_ARG, /too long/);
  assert.deepEqual((await conn.listAllDomains()).map((d) => d.name), ['test']);
  await conn.close();
});
