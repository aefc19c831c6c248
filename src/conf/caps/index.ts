/** The capability model of QEMU binaries (see types.ts). */
export type { Accel, QemuCaps, QemuDriverConfig, QemuHost, QemuMachine } from './types.js';
export { CAP, QOM_TYPE_CAPS, cpuModelFromTypeName, flagsFromQomTypes, type CapName } from './flags.js';
export {
  accelOf,
  canonicalMachine,
  capsForEmulator,
  emulatorFor,
  findMachine,
  hasCap,
  machineDefaultCpu,
  preferredMachine,
  withoutMachineAliases,
} from './machines.js';
export { DEFAULT_QEMU_HOST, QEMU_7_2_I686, QEMU_7_2_X86_64 } from './builtin-qemu-7.2.js';
export { loadLibvirtCapsXml } from './libvirt-xml.js';
