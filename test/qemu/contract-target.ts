/**
 * The contract suite's QEMU target: `qemu:///session?root={tmp}`, one private root folder per
 * connection, real QEMU processes. The contract's domain and device XML describe files and bridges
 * that do not exist on a host; here they become real ones, private to the connection:
 *
 * - the domain boots the test guest (scripts/build-test-guest.sh) by direct kernel boot, so unplugs a
 *   guest OS must answer (PCI devices on ACPI hot-plug) are answered;
 * - every `<source file>` moves under `{tmp}/files/` and exists (qemu-img: raw, or qcow2 when the
 *   driver says so); CD-ROM media are small raw files;
 * - bridges (`br0`, `br1`, the network `default`) become Linux bridges named after the folder; an
 *   `<interface type='network'>` becomes a `bridge` interface (the QEMU driver runs no virtual
 *   networks); user-chosen tap names become names of the folder, and an unmanaged tap is created;
 * - the connection's cleanup destroys its domains (the QEMUs outlive the connection by design),
 *   kills anything left that names the folder, and deletes the folder's links.
 *
 * Taps and bridges need root: without it (or without QEMU) the target's tests are skipped outside CI
 * and fail with the reason under CI=true.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseXml, serializeXml, type XmlElement } from '../../src/xml/index.js';
import type { ContractTarget } from '../contract/targets.js';
import { cleanUpRoot } from './driver-helpers.js';
import { qemuMissing, testGuest } from './helpers.js';

/** Why the QEMU target cannot run here, or undefined. */
function missing(): string | undefined {
  const qemu = qemuMissing();
  if (qemu) return qemu;
  if (process.getuid?.() !== 0) return 'the QEMU contract target needs root (it creates taps and bridges)';
  for (const tool of ['qemu-img', 'ip']) {
    if (!['/usr/bin', '/usr/sbin', '/bin', '/sbin'].some((d) => existsSync(join(d, tool)))) return `${tool} not installed`;
  }
  return undefined;
}

/** The short name of a connection's folder (`virtkit-contract-AbC123` → `AbC123`): its links start with `vk<id>`. */
function prefixOf(tmp: string): string {
  const id = basename(tmp).split('-').pop() ?? '';
  if (!/^[A-Za-z0-9]{6}$/.test(id)) throw new Error(`unexpected contract folder name '${tmp}'`);
  return `vk${id}`;
}

function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/** The connection's bridge standing for a contract bridge name (created on first use). */
function bridgeFor(tmp: string, name: string): string {
  const known: Record<string, string> = { br0: 'b0', br1: 'b1', default: 'bd' };
  const suffix = known[name] ?? `b${[...name].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) % 1296, 7).toString(36)}`;
  const bridge = `${prefixOf(tmp)}${suffix}`;
  if (!linkExists(bridge)) {
    execFileSync('ip', ['link', 'add', 'name', bridge, 'type', 'bridge']);
    execFileSync('ip', ['link', 'set', 'dev', bridge, 'up']);
  }
  return bridge;
}

/** The connection's tap name standing for a user-chosen one (`mytap7` → `vkAbC123t7`). */
function tapFor(tmp: string, name: string): string {
  const digits = /\d+$/.exec(name)?.[0] ?? '0';
  return `${prefixOf(tmp)}t${digits.slice(-4)}`;
}

/** The file in the connection's folder standing for a contract path, created when missing. */
function fileFor(tmp: string, path: string, disk: XmlElement): string {
  const local = join(tmp, 'files', path.replace(/^\/+/, ''));
  if (!local.startsWith(join(tmp, 'files'))) throw new Error(`contract path '${path}' leaves the folder`);
  if (!existsSync(local)) {
    mkdirSync(dirname(local), { recursive: true });
    if (disk.attr('device') === 'cdrom') writeFileSync(local, Buffer.alloc(64 * 1024));
    else {
      const format = disk.child('driver')?.attr('type') === 'qcow2' ? 'qcow2' : 'raw';
      execFileSync('qemu-img', ['create', '-q', '-f', format, local, '16M']);
    }
  }
  return local;
}

/** Rewrites the devices under `root` (a `<devices>` element or one device) in place. */
function adaptDevices(tmp: string, devices: XmlElement[]): void {
  for (const dev of devices) {
    if (dev.name === 'disk') {
      const source = dev.child('source');
      const file = source?.attr('file');
      if (source && file?.startsWith('/') && !file.startsWith(tmp)) source.setAttr('file', fileFor(tmp, file, dev));
    } else if (dev.name === 'interface') {
      const source = dev.child('source');
      if (dev.attr('type') === 'network') {
        dev.setAttr('type', 'bridge');
        if (source) {
          const net = source.attr('network') ?? 'default';
          source.removeAttr('network').removeAttr('portgroup');
          source.setAttr('bridge', bridgeFor(tmp, net));
        }
      } else if (dev.attr('type') === 'bridge' && source?.attr('bridge') !== undefined && !source.attr('bridge')!.startsWith(prefixOf(tmp))) {
        source.setAttr('bridge', bridgeFor(tmp, source.attr('bridge')!));
      }
      const target = dev.child('target');
      const name = target?.attr('dev');
      // Names in the reserved prefix are the driver's to replace (unless unmanaged); others are the user's.
      if (target && name !== undefined && !name.startsWith(prefixOf(tmp)) && (!/^vnet\d+$/.test(name) || target.attr('managed') === 'no')) {
        const tap = tapFor(tmp, name);
        target.setAttr('dev', tap);
        if (target.attr('managed') === 'no' && !linkExists(tap)) {
          execFileSync('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
          execFileSync('ip', ['link', 'set', 'dev', tap, 'up']);
        }
      }
    }
  }
}

let guest: { kernel: string; initrd: string } | undefined;

/** The contract domain as one QEMU boots: the test guest's kernel, real files and bridges. */
export function bootableGuest(text: string, tmp: string): string {
  const root = parseXml(text);
  if (root.name !== 'domain' || !['qemu', 'kvm'].includes(root.attr('type') ?? '')) return text;
  const os = root.child('os');
  if (os && !os.child('kernel')) {
    guest ??= testGuest();
    os.ensureChild('kernel').setText(guest.kernel);
    os.ensureChild('initrd').setText(guest.initrd);
    os.ensureChild('cmdline').setText('console=ttyS0 quiet panic=-1');
  }
  adaptDevices(tmp, root.child('devices')?.elements() ?? []);
  return serializeXml(root);
}

/** A contract device XML as the QEMU target needs it (same rewriting as the domain's devices). */
export function hostDevice(text: string, tmp: string): string {
  const root = parseXml(text);
  adaptDevices(tmp, [root]);
  return serializeXml(root);
}

/** Removes what a connection's folder left on the host: domains, QEMUs, taps, bridges. */
async function cleanUp(tmp: string): Promise<void> {
  await cleanUpRoot(tmp, `qemu:///session?root=${tmp}`);
  const prefix = prefixOf(tmp);
  for (const link of readdirSync('/sys/class/net').filter((n) => n.startsWith(prefix))) {
    try {
      execFileSync('ip', ['link', 'del', 'dev', link]);
    } catch {
      // gone meanwhile (a bridge's deletion can take its ports' state with it)
    }
  }
}

export function qemuContractTarget(): ContractTarget {
  return {
    uri: 'qemu:///session?root={tmp}',
    domainTypes: ['qemu'],
    simulatedGuest: false,
    hotplugContract: true,
    // A booted guest answers a PCI unplug in ~0.2 s, but a detach right after start waits for the boot: seconds under
    // TCG on a quiet machine, over a minute with several guests booting on a loaded one (a longer bound costs nothing
    // when the guest answers; paused guests return at once).
    guestAnswerMs: 180_000,
    adaptDomain: bootableGuest,
    adaptDevice: hostDevice,
    missing: missing(),
    lacks: { graphics: "virtkit's QEMU driver runs no display (QEMU gets -display none; <graphics> is refused at start)" },
    async prepare(tmp) {
      return () => cleanUp(tmp);
    },
  };
}
