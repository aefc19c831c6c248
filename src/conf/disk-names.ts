/** Disk target names (vda, sdb, hdc, xvdaa): libvirt's bijective base-26 index and the bus each prefix implies. */

const prefixes = ['fd', 'hd', 'vd', 'sd', 'xvd', 'ubd'] as const;

/** Index of a target name (`vda` → 0, `vdz` → 25, `vdaa` → 26), or undefined when it is not a disk name. */
export function diskNameToIndex(name: string): number | undefined {
  let i = -1;
  for (const p of prefixes) {
    if (name.startsWith(p)) {
      i = p.length;
      break;
    }
  }
  if (i < 0) return undefined;
  // Letters a-z (at least one) give the index, then only digits may follow (a partition number).
  const letters = i;
  let idx = 0;
  for (; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 97 || c > 122) break;
    idx = idx * 26 + (c - 96);
  }
  if (i === letters) return undefined;
  for (; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
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
