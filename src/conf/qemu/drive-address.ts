/**
 * Drive addresses (controller/bus/target/unit) of disks on controller-based buses, from the target
 * name's index (virDomainDiskDefAssignAddress): IDE 2 units x 2 buses per controller, SCSI 7 units
 * (narrow bus), SATA 6 units, floppy 2 units.
 */
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';
import { type DriveAddress, driveAddressElement } from '../address.js';
import { setAddress } from '../devices/common.js';
import { diskNameToIndex } from '../disk-names.js';
import type { DomainDef } from '../domain.js';

export function assignDriveAddress(def: DomainDef, disk: XmlElement): void {
  void def;
  const target = disk.child('target');
  const dev = target?.attr('dev') ?? '';
  const idx = diskNameToIndex(dev);
  if (idx === undefined) throw virtError(ErrorCode.XML_ERROR, `Unknown disk name '${dev}' and no address specified`);
  // Addresses are written whole: adding a property to a spread copy ({ ...a, target }) is slow in V8.
  let a: DriveAddress | undefined;
  switch (target?.attr('bus')) {
    case 'scsi':
      a = { controller: Math.floor(idx / 7), bus: 0, target: 0, unit: idx % 7 };
      break;
    case 'ide':
      a = { controller: Math.floor(idx / 4), bus: Math.floor((idx % 4) / 2), target: 0, unit: idx % 2 };
      break;
    case 'sata':
      a = { controller: Math.floor(idx / 6), bus: 0, target: 0, unit: idx % 6 };
      break;
    case 'fdc':
      a = { controller: Math.floor(idx / 2), bus: 0, target: 0, unit: idx % 2 };
      break;
  }
  if (a) setAddress(disk, driveAddressElement(a));
}
