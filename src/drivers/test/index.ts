/**
 * The test driver: the hot-plug engine (src/hypervisor) with a simulated guest as its
 * hypervisor step. `test:///default` keeps its domains in the process; `?state=DIR` in a
 * state folder shared by processes. What runs here is the code path every driver on the
 * engine runs, QEMU's included, except the hypervisor step.
 */
import { isAbsolute } from 'node:path';
import { parseDomainXml } from '../../conf/index.js';
import { ErrorCode, virtError } from '../../errors.js';
import { type DomainStore, FolderDomains, MemoryDomains } from '../../hypervisor/domains.js';
import { Engine } from '../../hypervisor/engine.js';
import type { OpenOptions, ParsedUri } from '../registry.js';
import { DEFAULT_DOMAIN_XML } from './default-domain.js';
import { TestBackend } from './test-host.js';

/** libvirt's QEMU driver waits this long for DEVICE_DELETED before reporting "request sent". */
export const DEFAULT_UNPLUG_TIMEOUT_MS = 5000;
/** The longest unplug wait a connection may ask for (one hour). */
export const MAX_UNPLUG_TIMEOUT_MS = 3_600_000;

function unplugTimeout(parsed: ParsedUri, options: OpenOptions): number {
  const q = parsed.params.get('unplugTimeout');
  if (q !== null) {
    if (!/^\d{1,7}$/.test(q) || Number(q) > MAX_UNPLUG_TIMEOUT_MS) {
      throw virtError(ErrorCode.INVALID_ARG, `invalid unplugTimeout '${q}' in URI: expected milliseconds from 0 to ${MAX_UNPLUG_TIMEOUT_MS}`);
    }
    return Number(q);
  }
  const o = options.unplugTimeoutMs;
  if (o === undefined) return DEFAULT_UNPLUG_TIMEOUT_MS;
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0 || o > MAX_UNPLUG_TIMEOUT_MS) {
    throw virtError(ErrorCode.INVALID_ARG, `invalid unplugTimeoutMs ${String(o)}: expected an integer number of milliseconds from 0 to ${MAX_UNPLUG_TIMEOUT_MS}`);
  }
  return o;
}

function stateFolder(uri: string, dir: string): string {
  if (dir === '') throw virtError(ErrorCode.INVALID_ARG, `empty state folder in URI '${uri}'`);
  // A relative path would depend on the working directory of whichever process opens the URI.
  if (!isAbsolute(dir)) throw virtError(ErrorCode.INVALID_ARG, `state folder '${dir}' in URI '${uri}' must be an absolute path`);
  return dir;
}

export async function openTestDriver(uri: string, parsed: ParsedUri, options: OpenOptions): Promise<Engine> {
  if (parsed.path !== '/default') {
    throw virtError(ErrorCode.NO_SUPPORT, `test driver URI '${uri}' is not supported: use test:///default (libvirt's custom test driver files are not supported)`);
  }
  for (const key of parsed.params.keys()) {
    if (key !== 'state' && key !== 'unplugTimeout') throw virtError(ErrorCode.INVALID_ARG, `unknown parameter '${key}' in URI '${uri}'`);
  }
  const unplugTimeoutMs = unplugTimeout(parsed, options);
  const dir = parsed.params.get('state');
  let store: DomainStore;
  if (dir !== null) {
    const folder = new FolderDomains(stateFolder(uri, dir));
    await folder.migrate();
    store = folder;
  } else {
    store = new MemoryDomains();
  }
  const engine = new Engine({
    uri,
    store,
    backend: new TestBackend(),
    unplugTimeoutMs,
    onListenerError: options.onListenerError,
    qemuHost: options.qemuHost,
  });
  // Like libvirt's test:///default, a fresh connection (or state folder) holds the running domain `test`.
  await engine.seed(parseDomainXml(DEFAULT_DOMAIN_XML, { qemuHost: options.qemuHost }), true);
  return engine;
}
