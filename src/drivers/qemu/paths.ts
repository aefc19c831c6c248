/**
 * Where qemu:///session and qemu:///system keep things: the domain store (persistent and live XML,
 * counters, locks), the runtime folder (one private folder per running domain with its monitor
 * socket), and QEMU's logs. `?root=DIR` puts all three under one folder (tests, embedding).
 */
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ErrorCode, virtError } from '../../errors.js';

export interface QemuPaths {
  mode: 'session' | 'system';
  /** The engine's state folder (config/, status/, driver.json, locks). */
  store: string;
  /** Runtime folders of running domains (monitor sockets). */
  run: string;
  /** QEMU's stdout/stderr, one file per domain. */
  log: string;
}

/** Longest unix socket path (sun_path is 108 bytes with the NUL). */
export const MAX_SOCKET_PATH = 107;

function xdg(name: string, fallback: string): string {
  const v = process.env[name];
  return v && isAbsolute(v) ? v : join(homedir(), fallback);
}

export function qemuPaths(mode: 'session' | 'system', root: string | undefined): QemuPaths {
  if (root !== undefined) {
    if (!isAbsolute(root)) throw virtError(ErrorCode.INVALID_ARG, `root folder '${root}' must be an absolute path`);
    return { mode, store: join(root, 'state'), run: join(root, 'run'), log: join(root, 'log') };
  }
  if (mode === 'system') return { mode, store: '/var/lib/virtkit/qemu', run: '/run/virtkit/qemu', log: '/var/log/virtkit/qemu' };
  const state = xdg('XDG_STATE_HOME', '.local/state');
  const runtime = process.env.XDG_RUNTIME_DIR && isAbsolute(process.env.XDG_RUNTIME_DIR) ? join(process.env.XDG_RUNTIME_DIR, 'virtkit', 'qemu') : join(state, 'virtkit', 'qemu', 'run');
  return { mode, store: join(xdg('XDG_CONFIG_HOME', '.config'), 'virtkit', 'qemu'), run: runtime, log: join(state, 'virtkit', 'qemu', 'log') };
}

/** A running domain's private folder: `<run>/domain-<id>-<name, shortened and sanitized>`. */
export function domainRunDir(paths: QemuPaths, id: number, name: string): string {
  const short = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 20);
  return join(paths.run, `domain-${id}-${short}`);
}

/** The log file of a domain (by name; long names by UUID, so the file name always fits). */
export function domainLogFile(paths: QemuPaths, name: string, uuid: string): string {
  return join(paths.log, Buffer.byteLength(name) <= 200 ? `${name}.log` : `${uuid}.log`);
}
