/** Disk target names to libvirt's index (virDiskNameToIndex) and back. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diskNameToIndex, indexToDiskName } from '../../src/conf/disk-names.js';

test("disk target names give libvirt's bijective base-26 index; anything else is no disk name", () => {
  const cases: [string, number | undefined][] = [
    ['vda', 0], ['vdz', 25], ['vdaa', 26], ['sdb1', 1], ['hdc12', 2], ['fdb', 1], ['xvdaa', 26], ['ubdc', 2],
    ['vd', undefined], ['vd1', undefined], ['vda1a', undefined], ['VDA', undefined], ['vdA', undefined],
    ['nvme0n1', undefined], ['', undefined], ['vda ', undefined], ['vda-1', undefined], ['xvd', undefined],
  ];
  for (const [name, index] of cases) assert.equal(diskNameToIndex(name), index, name);
  for (const prefix of ['vd', 'sd', 'hd', 'fd', 'xvd', 'ubd']) {
    for (let i = 0; i < 20_000; i += 7) assert.equal(diskNameToIndex(indexToDiskName(i, prefix)), i, `${prefix} ${i}`);
  }
});
