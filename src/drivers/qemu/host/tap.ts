/**
 * Host taps for `ethernet` and `bridge` interfaces, made with iproute2 (argv arrays, no shell): libvirt
 * opens taps itself (TUNSETIFF) and passes QEMU the fd, which Node cannot do without a native addon;
 * instead virtkit creates a persistent tap and QEMU (as root) attaches to it by name. Needs
 * CAP_NET_ADMIN, i.e. qemu:///system.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, virtError } from '../../../errors.js';
import { hostNameTakenError } from '../../../hypervisor/backend.js';
import { acquireFileLock, releaseFileLock } from '../../../hypervisor/store/file-lock.js';
import type { TapSpec } from '../command/net.js';
import { checkIfName } from '../command/net.js';

const IP_CANDIDATES = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];

/** The host-wide lock of tap creation (root only creates taps; /run/lock is root's). */
const TAP_LOCK = existsSync('/run/lock') ? '/run/lock/virtkit-taps.lock' : join(tmpdir(), 'virtkit-taps.lock');

function ipBinary(): string {
  const found = IP_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw virtError(ErrorCode.SYSTEM_ERROR, "cannot create tap devices: iproute2's 'ip' is not installed (apt-get install iproute2)");
  return found;
}

function ip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(ipBinary(), args, { timeout: 10_000 }, (err, _stdout, stderr) => {
      if (!err) resolve();
      else reject(new Error((stderr || err.message).trim()));
    });
  });
}

/** Whether a network interface of that name exists on the host. */
export function netdevExists(name: string): boolean {
  return existsSync(`/sys/class/net/${checkIfName(name, 'interface name')}`);
}

/** Whether `name` is a Linux bridge. */
export function isBridge(name: string): boolean {
  return existsSync(`/sys/class/net/${checkIfName(name, 'bridge name')}/bridge`);
}

/**
 * Creates the tap of `spec` (or checks that an unmanaged one exists), sets its host-side MAC, enslaves it
 * to the bridge and brings it up. On failure nothing it created is left behind.
 */
export async function setUpTap(spec: TapSpec): Promise<void> {
  checkIfName(spec.name, 'tap name');
  if (spec.tag !== undefined && !/^[\x21-\x7e]{1,200}$/.test(spec.tag)) throw virtError(ErrorCode.INTERNAL_ERROR, `invalid tap tag '${spec.tag}'`);
  if (spec.bridge !== undefined && !isBridge(spec.bridge)) {
    throw virtError(ErrorCode.OPERATION_FAILED, `bridge '${spec.bridge}' does not exist on this host (or is not a bridge)`);
  }
  if (!spec.managed) {
    if (!netdevExists(spec.name)) throw virtError(ErrorCode.OPERATION_FAILED, `tap device '${spec.name}' (managed='no') does not exist`);
    return;
  }
  const taken = () => hostNameTakenError(ErrorCode.OPERATION_FAILED, `network device '${spec.name}' already exists on this host`);
  if (netdevExists(spec.name)) throw taken();
  if (process.getuid?.() !== 0) {
    throw virtError(ErrorCode.OPERATION_DENIED, `creating tap device '${spec.name}' needs root (CAP_NET_ADMIN): use qemu:///system`);
  }
  // `ip tuntap add` attaches to a tap that exists already instead of failing: the look and the creation
  // hold a host-wide lock, so two virtkit processes never take one name (the loser plans a new one).
  const lock = await acquireFileLock(TAP_LOCK, { timeoutMs: 10_000 }).catch((err: Error) => {
    throw virtError(ErrorCode.OPERATION_TIMEOUT, `cannot create tap device '${spec.name}': ${err.message}`);
  });
  try {
    if (netdevExists(spec.name)) throw taken();
    await ip(['tuntap', 'add', 'dev', spec.name, 'mode', 'tap']);
  } catch (err) {
    if ((err as { reason?: string }).reason !== undefined) throw err;
    throw virtError(ErrorCode.OPERATION_FAILED, `cannot create tap device '${spec.name}': ${(err as Error).message}`);
  } finally {
    releaseFileLock(lock);
  }
  try {
    const settings = ['link', 'set', 'dev', spec.name, 'address', spec.mac];
    if (spec.bridge !== undefined) settings.push('master', spec.bridge);
    if (spec.tag !== undefined) settings.push('alias', spec.tag);
    await ip([...settings, 'up']);
  } catch (err) {
    await removeTap(spec).catch(() => {});
    throw virtError(ErrorCode.OPERATION_FAILED, `cannot set up tap device '${spec.name}': ${(err as Error).message}`);
  }
}

/** Takes a tap off its bridge (the contract's isolate): the guest's NIC stays, its traffic reaches nothing. */
export async function leaveBridge(name: string): Promise<void> {
  checkIfName(name, 'tap name');
  if (!existsSync(`/sys/class/net/${name}/master`)) return;
  try {
    await ip(['link', 'set', 'dev', name, 'nomaster']);
  } catch (err) {
    throw virtError(ErrorCode.OPERATION_FAILED, `cannot take tap device '${name}' off its bridge: ${(err as Error).message}`);
  }
}

/** Taps on this host whose ifalias is `tag` (those virtkit made for one domain). */
export function tapsTagged(tag: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync('/sys/class/net')) {
    try {
      if (readFileSync(`/sys/class/net/${name}/ifalias`, 'utf8').trim() === tag) out.push(name);
    } catch {
      // vanished meanwhile, or no ifalias
    }
  }
  return out;
}

/** Deletes a managed tap; a tap that is already gone is fine. Unmanaged taps are left alone. */
export async function removeTap(spec: Pick<TapSpec, 'name' | 'managed'>): Promise<void> {
  if (!spec.managed || !netdevExists(spec.name)) return;
  try {
    await ip(['link', 'del', 'dev', spec.name]);
  } catch (err) {
    if (!netdevExists(spec.name)) return;
    throw virtError(ErrorCode.OPERATION_FAILED, `cannot delete tap device '${spec.name}': ${(err as Error).message}`);
  }
}
