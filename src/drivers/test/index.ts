/** Opens the test driver for `test:///default` (in-process) or `test:///default?state=DIR` (shared folder). */
import { parseDomainXml } from '../../conf/index.js';
import { ErrorCode, virtError } from '../../errors.js';
import type { OpenOptions, ParsedUri } from '../registry.js';
import { DiskBacking, MemoryBacking, type Backing } from './backing.js';
import { DEFAULT_DOMAIN_XML } from './default-domain.js';
import { TestDriver } from './driver.js';
import { define, start } from './lifecycle.js';

/** libvirt's QEMU driver waits this long for DEVICE_DELETED before reporting "request sent". */
export const DEFAULT_UNPLUG_TIMEOUT_MS = 5000;

function unplugTimeout(parsed: ParsedUri, options: OpenOptions): number {
  const q = parsed.params.get('unplugTimeout');
  if (q !== null) {
    if (!/^\d+$/.test(q)) throw virtError(ErrorCode.INVALID_ARG, `invalid unplugTimeout '${q}' in URI: expected milliseconds`);
    return Number(q);
  }
  return options.unplugTimeoutMs ?? DEFAULT_UNPLUG_TIMEOUT_MS;
}

/** Seeds a never-used backing with libvirt's default running domain `test` (checked under the lock, so racing processes seed once). */
async function seed(backing: Backing, isFresh: () => boolean): Promise<void> {
  const def = parseDomainXml(DEFAULT_DOMAIN_XML);
  await backing.run((tx) => {
    if (!isFresh()) return;
    const obj = define(tx, def);
    start(tx, obj, 0);
  });
}

export async function openTestDriver(uri: string, parsed: ParsedUri, options: OpenOptions): Promise<TestDriver> {
  if (parsed.path !== '/default') {
    throw virtError(ErrorCode.NO_SUPPORT, `test driver URI '${uri}' is not supported: use test:///default (libvirt's custom test driver files are not supported)`);
  }
  for (const key of parsed.params.keys()) {
    if (key !== 'state' && key !== 'unplugTimeout') throw virtError(ErrorCode.INVALID_ARG, `unknown parameter '${key}' in URI '${uri}'`);
  }
  const timeout = unplugTimeout(parsed, options);
  let driver: TestDriver | undefined;
  const sink = (events: Parameters<TestDriver['dispatch']>[0], after: Parameters<TestDriver['dispatch']>[1]): void =>
    driver?.dispatch(events, after);
  const dir = parsed.params.get('state');
  let backing: Backing;
  let isFresh = (): boolean => true;
  if (dir !== null) {
    if (dir === '') throw virtError(ErrorCode.INVALID_ARG, `empty state folder in URI '${uri}'`);
    const disk = new DiskBacking(dir, sink);
    isFresh = () => disk.isEmpty();
    backing = disk;
  } else {
    backing = new MemoryBacking(sink);
  }
  driver = new TestDriver(backing, { uri, unplugTimeoutMs: timeout, onListenerError: options.onListenerError, qemuHost: options.qemuHost });
  await seed(backing, isFresh);
  return driver;
}

export { TestDriver };
