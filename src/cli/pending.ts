/**
 * A detach the guest has not acknowledged yet: libvirt returns success for it and
 * virsh prints "… detached successfully", which scripts grep for. virtkit keeps that
 * line and adds the truthful part on stderr.
 */

/** The stderr note after a pending unplug. */
export function pendingNote(alias: string | undefined): string {
  const device = alias ? `device '${alias}'` : 'the device';
  return `note: the guest has not acknowledged the unplug of ${device} yet; it stays in the live XML until the guest releases it (event 'device-removed')\n`;
}
