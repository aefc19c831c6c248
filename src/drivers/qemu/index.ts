/**
 * The QEMU driver: the hot-plug engine (src/hypervisor) over real QEMU processes. No daemon:
 * domains live in a state folder any process can open, QEMU outlives the process that started it,
 * and whichever process touches a domain next reconnects to its monitor and reconciles.
 *
 *   qemu:///session   state under the user's XDG folders (no root: user networking only)
 *   qemu:///system    root; /var/lib/virtkit/qemu, /run/virtkit/qemu, /var/log/virtkit/qemu
 *   ...?root=DIR      everything under DIR (tests, embedding), like libvirt's qemu:///embed
 *   ...?unplugTimeout=MS   how long a live detach waits for the guest (default 5000)
 */
import { ErrorCode, virtError } from '../../errors.js';
import { FolderDomains } from '../../hypervisor/domains.js';
import { Engine } from '../../hypervisor/engine.js';
import type { OpenOptions, ParsedUri } from '../registry.js';
import { QemuBackend } from './backend.js';
import { qemuCapabilities } from './caps/cache.js';
import { hostFromProbes } from './caps/model.js';
import type { QemuProbe } from './caps/probe.js';
import { qemuPaths } from './paths.js';

export const DEFAULT_UNPLUG_TIMEOUT_MS = 5000;
const MAX_UNPLUG_TIMEOUT_MS = 3_600_000;
/** The binary define-time defaults are computed for (libvirt probes every binary it finds; we probe this one). */
export const DEFAULT_EMULATOR = '/usr/bin/qemu-system-x86_64';

function unplugTimeout(uri: string, parsed: ParsedUri, options: OpenOptions): number {
  const q = parsed.params.get('unplugTimeout');
  const v = q !== null ? (/^\d{1,7}$/.test(q) ? Number(q) : Number.NaN) : (options.unplugTimeoutMs ?? DEFAULT_UNPLUG_TIMEOUT_MS);
  if (!Number.isInteger(v) || v < 0 || v > MAX_UNPLUG_TIMEOUT_MS) {
    throw virtError(ErrorCode.INVALID_ARG, `invalid unplug timeout in '${uri}': expected milliseconds from 0 to ${MAX_UNPLUG_TIMEOUT_MS}`);
  }
  return v;
}

export async function openQemuDriver(uri: string, parsed: ParsedUri, options: OpenOptions): Promise<Engine> {
  const mode = parsed.path === '/session' ? 'session' : parsed.path === '/system' ? 'system' : undefined;
  if (!mode || parsed.host !== '') {
    throw virtError(ErrorCode.NO_SUPPORT, `QEMU driver URI '${uri}' is not supported: use qemu:///session or qemu:///system`);
  }
  for (const key of parsed.params.keys()) {
    if (key !== 'root' && key !== 'unplugTimeout') throw virtError(ErrorCode.INVALID_ARG, `unknown parameter '${key}' in URI '${uri}'`);
  }
  const root = parsed.params.get('root') ?? undefined;
  if (mode === 'system' && root === undefined && process.getuid?.() !== 0) {
    throw virtError(ErrorCode.OPERATION_DENIED, `'${uri}' needs root (it runs QEMU and creates taps as root): use qemu:///session`);
  }
  const unplugTimeoutMs = unplugTimeout(uri, parsed, options);
  const paths = qemuPaths(mode, root);
  let caps: QemuProbe | undefined;
  try {
    caps = await qemuCapabilities(DEFAULT_EMULATOR);
  } catch {
    // No QEMU installed: the connection still opens (as libvirt's does); starting a domain will say why it cannot.
  }
  // A running domain's status describes QEMU processes, taps and runtime folders, none of which outlive the host;
  // hot-plug calls wait on QEMU, time enough to write their commits ahead.
  const store = new FolderDomains(paths.store, { statusDiesWithHost: true, stageCommits: true });
  return new Engine({
    uri,
    store,
    backend: new QemuBackend({ paths, caps, unplugTimeoutMs }),
    unplugTimeoutMs,
    onListenerError: options.onListenerError,
    qemuHost: options.qemuHost ?? hostFromProbes(caps ? [caps] : []),
  });
}
