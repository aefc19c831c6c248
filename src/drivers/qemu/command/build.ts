/**
 * A live domain definition (aliases, addresses, tap names and source indexes already assigned) as
 * QEMU's argv: an array, never a shell string, with every device in JSON form. QEMU always starts
 * with -S (the driver finishes setting up, then sends `cont` unless a paused start was asked). A guest
 * poweroff ends QEMU; the shutdown trace event writes the cause to QEMU's log, so whichever process
 * looks next can tell a shutdown from a crash (process/exit-reason.ts).
 */
import type { DomainDef } from '../../../conf/domain.js';
import { ErrorCode, virtError } from '../../../errors.js';
import type { JsonObject } from '../qmp/protocol.js';
import { controllerDevice, miscArgs, serialArgs } from './devices.js';
import { diskObjects } from './disk.js';
import { netObjects, type TapSpec } from './net.js';
import { absolutePath, jsonArg, optValue, plainArg } from './qemu-opts.js';
import { SHUTDOWN_TRACE_ARGS } from '../process/exit-reason.js';

export interface BuildContext {
  /** QMP socket QEMU listens on (in a private 0700 folder). */
  monitorPath: string;
  /** Accelerator already decided by the driver (kvm only for type='kvm' with a working KVM). */
  accel: 'tcg' | 'kvm';
}

export interface QemuCommand {
  emulator: string;
  args: string[];
  /** Taps to create (and enslave) before QEMU starts. */
  taps: TapSpec[];
  /** NIC aliases whose link starts down (`set_link` after start). */
  linkDown: string[];
  /** Serial ports on a pty: their path is read back with query-chardev and written into the live XML. */
  ptys: { alias: string; chardev: string }[];
}

const MAX_VCPUS = 255;

function memoryArg(def: DomainDef): string {
  const kib = def.memoryKiB;
  if (!Number.isSafeInteger(kib) || kib < 1024) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `memory size ${kib} KiB is too small for QEMU`);
  return `size=${kib}k`;
}

function smpArg(def: DomainDef): string {
  const n = def.vcpus;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_VCPUS) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `vcpu count ${n} is out of range 1-${MAX_VCPUS}`);
  const topo = def.root.find('cpu', 'topology');
  if (!topo) return `${n},sockets=${n},cores=1,threads=1`;
  const num = (k: string): number => Number(topo.attr(k) ?? 1);
  const [s, c, t] = [num('sockets'), num('cores'), num('threads')];
  if (![s, c, t].every((x) => Number.isSafeInteger(x) && x >= 1) || s * c * t !== n) {
    throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `CPU topology ${s}x${c}x${t} does not match the vcpu count ${n}`);
  }
  return `${n},sockets=${s},cores=${c},threads=${t}`;
}

function cpuArgs(def: DomainDef, accel: 'tcg' | 'kvm'): string[] {
  const cpu = def.root.child('cpu');
  const mode = cpu?.attr('mode') ?? 'custom';
  if (mode === 'host-passthrough' || mode === 'host-model') {
    if (accel !== 'kvm') throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `CPU mode '${mode}' needs KVM; this domain runs under TCG`);
    return ['-cpu', 'host'];
  }
  const model = cpu?.childText('model');
  if (model === undefined) return [];
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(model)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `CPU model '${model}' is not a QEMU CPU model name`);
  return ['-cpu', model];
}

/** bootindex from `<os><boot dev>` when no device has its own `<boot order>` and no kernel is booted directly. */
function applyOsBootOrder(def: DomainDef, disks: JsonObject[], nics: JsonObject[]): void {
  const os = def.os;
  if (os.kernel || def.deviceElements().some((d) => d.child('boot'))) return;
  let index = 1;
  const diskEls = def.elementsNamed('disk');
  for (const dev of os.boot) {
    let target: JsonObject | undefined;
    if (dev === 'hd') target = disks[diskEls.findIndex((d) => (d.attr('device') ?? 'disk') === 'disk')];
    else if (dev === 'cdrom') target = disks[diskEls.findIndex((d) => d.attr('device') === 'cdrom')];
    else if (dev === 'network') target = nics[0];
    if (target && target.bootindex === undefined) target.bootindex = index++;
  }
}

export function buildQemuCommand(def: DomainDef, ctx: BuildContext): QemuCommand {
  const emulator = absolutePath(def.emulator ?? '', 'emulator');
  if (def.os.type !== 'hvm') throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `OS type '${def.os.type}' is not supported by virtkit's QEMU driver`);
  const machine = def.machine ?? 'pc';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(machine)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `machine type '${machine}' is not valid`);
  if (!/^(pc|q35)$|^pc-(i440fx|q35)-/.test(machine)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `machine type '${machine}' is not supported (use pc or q35)`);
  if (def.root.find('os', 'loader') || def.root.find('os', 'nvram')) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, 'firmware <loader>/<nvram> is not supported by virtkit\'s QEMU driver');
  const acpi = def.features.includes('acpi');

  const args: string[] = ['-name', `guest=${optValue(def.name, 'domain name')},debug-threads=on`, '-S'];
  args.push('-machine', `${machine},usb=off,dump-guest-core=off,acpi=${acpi ? 'on' : 'off'}`);
  args.push('-accel', ctx.accel, ...cpuArgs(def, ctx.accel));
  args.push('-m', memoryArg(def), '-overcommit', 'mem-lock=off', '-smp', smpArg(def), '-uuid', def.uuid);
  args.push('-display', 'none', '-no-user-config', '-nodefaults');
  args.push('-chardev', `socket,id=charmonitor,path=${optValue(absolutePath(ctx.monitorPath, 'monitor socket'), 'monitor socket')},server=on,wait=off`);
  args.push('-mon', 'chardev=charmonitor,id=monitor,mode=control');
  const offset = def.clockOffset ?? 'utc';
  if (offset !== 'utc' && offset !== 'localtime') throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `clock offset '${offset}' is not supported`);
  args.push('-rtc', `base=${offset}`, ...SHUTDOWN_TRACE_ARGS);
  if (def.onReboot === 'destroy') args.push('-no-reboot');
  const os = def.os;
  if (os.kernel) args.push('-kernel', absolutePath(plainArg(os.kernel, 'kernel'), 'kernel'));
  if (os.initrd) args.push('-initrd', absolutePath(plainArg(os.initrd, 'initrd'), 'initrd'));
  if (os.cmdline) args.push('-append', plainArg(os.cmdline, 'kernel command line'));
  if (!os.kernel && (os.initrd || os.cmdline)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, '<initrd>/<cmdline> need a <kernel>');

  // Controllers first (their buses must exist before devices name them), PCI bridges before the rest.
  const controllers = def.elementsNamed('controller');
  const ordered = [...controllers.filter((c) => c.attr('type') === 'pci'), ...controllers.filter((c) => c.attr('type') !== 'pci')];
  for (const c of ordered) {
    const d = controllerDevice(def, c);
    if (d) args.push('-device', jsonArg(d));
  }
  const diskObjs = def.elementsNamed('disk').map((d) => diskObjects(def, d));
  const netObjs = def.elementsNamed('interface').map((i) => netObjects(def, i));
  applyOsBootOrder(
    def,
    diskObjs.map((d) => d.device),
    netObjs.map((n) => n.device),
  );
  if (diskObjs.some((d) => d.device.bootindex !== undefined) || netObjs.some((n) => n.device.bootindex !== undefined)) args.push('-boot', 'strict=on');
  for (const d of diskObjs) {
    for (const node of d.nodes) args.push('-blockdev', jsonArg(node));
    args.push('-device', jsonArg(d.device));
  }
  for (const n of netObjs) args.push('-netdev', jsonArg(n.netdev), '-device', jsonArg(n.device));
  const serial = serialArgs(def);
  for (let i = 0; i < serial.chardevs.length; i++) args.push('-chardev', serial.chardevs[i]!, '-device', jsonArg(serial.devices[i]!));
  const misc = miscArgs(def);
  for (const a of misc.audiodevs) args.push('-audiodev', jsonArg(a));
  for (const o of misc.objects) args.push('-object', jsonArg(o));
  for (const d of misc.devices) args.push('-device', jsonArg(d));
  for (const a of misc.actions) args.push('-action', a);
  args.push('-sandbox', 'on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny', '-msg', 'timestamp=on');
  return {
    emulator,
    args,
    taps: netObjs.flatMap((n) => (n.tap ? [n.tap] : [])),
    linkDown: netObjs.filter((n) => n.linkDown).map((n) => String(n.device.id)),
    ptys: serial.ptys,
  };
}
