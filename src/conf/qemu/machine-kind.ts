/** Which chipset a QEMU machine type name stands for (libvirt decides by name prefix, on x86 only). */
import type { DomainDef } from '../domain.js';

export function isX86Arch(arch: string | undefined): boolean {
  return arch === 'x86_64' || arch === 'i686';
}

export function machineIsQ35(machine: string | undefined, arch: string | undefined): boolean {
  return isX86Arch(arch) && machine !== undefined && (machine === 'q35' || machine.startsWith('pc-q35-'));
}

export function machineIsI440fx(machine: string | undefined, arch: string | undefined): boolean {
  if (!isX86Arch(arch) || machine === undefined) return false;
  return machine === 'pc' || machine.startsWith('pc-0.') || machine.startsWith('pc-1.') || machine.startsWith('pc-i440fx-') || machine.startsWith('rhel');
}

export const isQ35 = (def: DomainDef): boolean => machineIsQ35(def.machine, def.arch);
export const isI440fx = (def: DomainDef): boolean => machineIsI440fx(def.machine, def.arch);
