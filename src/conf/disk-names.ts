/** Disk target names (vda, sdb, hdc, xvdaa): libvirt's bijective base-26 index and the bus each prefix implies. */

const prefixes = ['fd', 'hd', 'vd', 'sd', 'xvd', 'ubd'] as const;

/** Index of a target name (`vda` → 0, `vdz` → 25, `vdaa` → 26), or undefined when it is not a disk name. */
export function diskNameToIndex(name: string): number | undefined {
  const prefix = prefixes.find((p) => name.startsWith(p));
  if (!prefix) return undefined;
  const m = /^([a-z]+)(\d*)$/.exec(name.slice(prefix.length));
  if (!m) return undefined;
  let idx = 0;
  for (const ch of m[1]!) idx = idx * 26 + (ch.charCodeAt(0) - 96);
  return idx - 1;
}

/** Inverse of diskNameToIndex. */
export function indexToDiskName(index: number, prefix: string): string {
  let s = '';
  for (let i = index; i >= 0; i = Math.floor(i / 26) - 1) s = String.fromCharCode(97 + (i % 26)) + s;
  return prefix + s;
}

/** Bus implied by the target prefix when `<target bus>` is absent. */
export function busFromTarget(dev: string, device: string): string | undefined {
  if (device === 'floppy' || dev.startsWith('fd')) return 'fdc';
  if (dev.startsWith('hd')) return 'ide';
  if (dev.startsWith('sd')) return 'scsi';
  if (dev.startsWith('vd')) return 'virtio';
  if (dev.startsWith('xvd')) return 'xen';
  if (dev.startsWith('ubd')) return 'uml';
  return undefined;
}
