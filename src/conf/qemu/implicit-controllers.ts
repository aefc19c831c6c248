/**
 * Controllers implied by other devices (virDomainDefAddImplicitControllers): every drive controller
 * index up to the highest one a disk's drive address names (SCSI, floppy, IDE, SATA, in that order),
 * the virtio-serial controller of virtio channels and consoles, the CCID controller of smartcards and
 * the SCSI controller of SCSI host devices. Work is bounded: a drive address may name at most
 * controller MAX_IMPLICIT_CONTROLLER_INDEX.
 */
import { ErrorCode, virtError } from '../../errors.js';
import { el, type XmlElement } from '../../xml/index.js';
import { readDriveAddress } from '../address.js';
import type { DomainDef } from '../domain.js';

/** Highest controller index libvirt's drive addresses may imply here (a PCI hierarchy has 256 buses). */
export const MAX_IMPLICIT_CONTROLLER_INDEX = 255;

/** Indexes of each controller type present. */
export function controllerIndexes(def: DomainDef): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const c of def.peekNamed('controller')) {
    const type = c.attr('type') ?? '';
    const set = out.get(type) ?? new Set<number>();
    out.set(type, set);
    set.add(Number(c.attr('index') ?? 0));
  }
  return out;
}

function maybeAdd(def: DomainDef, present: Map<string, Set<number>>, type: string, index: number, model?: string): void {
  const set = present.get(type) ?? new Set<number>();
  present.set(type, set);
  if (set.has(index)) return;
  set.add(index);
  def.addDevice(el('controller', { type, index, model }));
}

/** Disk buses whose drive addresses imply controllers, in the order libvirt adds them; the controller type is the bus name. */
const DRIVE_BUSES = ['scsi', 'fdc', 'ide', 'sata'] as const;

/** The highest drive-address controller index per bus, and the disk naming it (one look at each disk). */
function driveControllerMax(def: DomainDef): { max: number; culprit?: XmlElement }[] {
  const out = DRIVE_BUSES.map((): { max: number; culprit?: XmlElement } => ({ max: -1 }));
  for (const d of def.peekNamed('disk')) {
    const b = DRIVE_BUSES.indexOf(d.child('target')?.attr('bus') as (typeof DRIVE_BUSES)[number]);
    if (b < 0) continue;
    const a = readDriveAddress(d);
    if (a && a.controller > out[b]!.max) out[b] = { max: a.controller, culprit: d };
  }
  return out;
}

function addDiskControllers(def: DomainDef, present: Map<string, Set<number>>, type: string, max: number, culprit: XmlElement | undefined): void {
  if (max > MAX_IMPLICIT_CONTROLLER_INDEX && !present.get(type)?.has(max)) {
    const dev = culprit?.child('target')?.attr('dev') ?? '';
    throw virtError(
      ErrorCode.CONFIG_UNSUPPORTED,
      `disk '${dev}': drive address controller='${max}' needs ${max + 1} '${type}' controllers; at most ${MAX_IMPLICIT_CONTROLLER_INDEX + 1} are added automatically`,
    );
  }
  for (let i = 0; i <= max; i++) maybeAdd(def, present, type, i);
}

export function addImplicitControllers(def: DomainDef): void {
  const present = controllerIndexes(def);
  // Adding controllers changes no disk: the addresses are read once for every bus.
  const maxes = driveControllerMax(def);
  for (let b = 0; b < DRIVE_BUSES.length; b++) addDiskControllers(def, present, DRIVE_BUSES[b]!, maxes[b]!.max, maxes[b]!.culprit);
  for (const kind of ['channel', 'console']) {
    for (const chr of def.peekNamed(kind)) {
      if (chr.child('target')?.attr('type') !== 'virtio') continue;
      const a = chr.child('address');
      const idx = a?.attr('type') === 'virtio-serial' ? Number(a.attr('controller') ?? 0) : 0;
      maybeAdd(def, present, 'virtio-serial', idx);
    }
  }
  for (const card of def.peekNamed('smartcard')) {
    const a = card.child('address');
    let idx = 0;
    if (a?.attr('type') === 'ccid') idx = Number(a.attr('controller') ?? 0);
    else if (!a) {
      // An unaddressed card takes the next CCID slot of controller 0.
      let max = -1;
      for (const o of def.peekNamed('smartcard')) {
        const oa = o.child('address');
        if (oa?.attr('type') === 'ccid' && Number(oa.attr('controller') ?? 0) === 0) max = Math.max(max, Number(oa.attr('slot') ?? 0));
      }
      card.append(el('address', { type: 'ccid', controller: 0, slot: max + 1 }));
    }
    maybeAdd(def, present, 'ccid', idx);
  }
  // SCSI host devices: controllers up to the highest they name, of the model that controller has.
  const scsiHostdevs = def.peekNamed('hostdev').filter((h) => h.attr('type') === 'scsi');
  let maxScsi = -1;
  let model: string | undefined;
  for (const h of scsiHostdevs) {
    const a = readDriveAddress(h);
    if (!a || a.controller <= maxScsi) continue;
    maxScsi = a.controller;
    const c = def.peekNamed('controller').find((x) => x.attr('type') === 'scsi' && Number(x.attr('index') ?? 0) === a.controller);
    if (c?.hasAttr('model')) model = c.attr('model');
  }
  for (let i = 0; i <= Math.min(maxScsi, MAX_IMPLICIT_CONTROLLER_INDEX); i++) maybeAdd(def, present, 'scsi', i, model);
}
