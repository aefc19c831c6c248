/**
 * spapr-vio addresses (qemuDomainAssignSpaprVIOAddresses): sPAPR VLAN NICs, ibmvscsi controllers,
 * spapr-vio serials, pSeries NVRAM and TPMs sit on the VIO bus at QEMU's default register (0x1000 net,
 * 0x2000 SCSI, 0x30000000 serial, 0x3000 NVRAM, 0x4000 TPM), the next 0x1000 up when taken.
 */
import { ErrorCode, virtError } from '../../errors.js';
import { el, type XmlElement } from '../../xml/index.js';
import { setAddress } from '../devices/common.js';
import type { DomainDef } from '../domain.js';

const reg = (e: XmlElement): number | undefined => {
  const a = e.child('address');
  if (a?.attr('type') !== 'spapr-vio') return undefined;
  const r = a.attr('reg');
  return r === undefined ? undefined : Number.parseInt(r, /^0x/i.test(r) ? 16 : 10);
};

const fmt = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;

export function assignSpaprVioAddresses(def: DomainDef): void {
  const pseries = (def.machine ?? '').startsWith('pseries');
  const wants: [XmlElement, number][] = [];
  for (const n of def.peekNamed('interface')) if (n.child('model')?.attr('type') === 'spapr-vlan' || reg(n) !== undefined || n.child('address')?.attr('type') === 'spapr-vio') wants.push([n, 0x1000]);
  for (const c of def.peekNamed('controller')) {
    if ((c.attr('type') === 'scsi' && c.attr('model') === 'ibmvscsi') || c.child('address')?.attr('type') === 'spapr-vio') wants.push([c, 0x2000]);
  }
  for (const s of def.peekNamed('serial')) {
    if (s.child('target')?.attr('type') === 'spapr-vio-serial' || s.child('address')?.attr('type') === 'spapr-vio') wants.push([s, 0x30000000]);
  }
  for (const n of def.peekNamed('nvram')) if (pseries || n.child('address')?.attr('type') === 'spapr-vio') wants.push([n, 0x3000]);
  for (const t of def.peekNamed('tpm')) if ((pseries && t.attr('model') !== 'spapr-tpm-proxy') || t.child('address')?.attr('type') === 'spapr-vio') wants.push([t, 0x4000]);
  const used = new Set<number>();
  for (const [e] of wants) {
    const r = reg(e);
    if (r !== undefined) used.add(r);
  }
  for (const [e, base] of wants) {
    const a = e.child('address');
    if (a && a.attr('type') !== 'spapr-vio') continue;
    const r = reg(e);
    if (r !== undefined) {
      a!.setAttr('reg', fmt(r));
      continue;
    }
    let next = base;
    while (used.has(next)) next += 0x1000;
    if (next > 0xffffffff) throw virtError(ErrorCode.XML_ERROR, `spapr-vio address ${fmt(next)} out of range`);
    used.add(next);
    setAddress(e, el('address', { type: 'spapr-vio', reg: fmt(next) }));
  }
}
