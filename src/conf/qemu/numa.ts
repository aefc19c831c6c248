/**
 * Guest NUMA as libvirt stores it (numa_conf.c): cells numbered (a cell without an id takes its
 * position) and listed by id, CPU lists in canonical ranges, memory in KiB, distances completed with
 * the local distance and mirrored where only one direction is given; a guest whose cells leave vCPUs
 * out gets them in cell 0 (qemuDomainDefNumaCPUsRectify); `<memory>` left out is the cells' sum.
 */
import { ErrorCode, virtError } from '../../errors.js';
import { el, type XmlElement } from '../../xml/index.js';
import type { DomainDef } from '../domain.js';
import { toKiB } from '../units.js';

/** Highest vCPU id a cpus list may name (libvirt's VIR_DOMAIN_CPUMASK_LEN). */
const CPUMASK_LEN = 16384;

/** Parses a cpuset (`0-3,^2,8`) into a sorted set of ids. */
export function parseCpuset(text: string, what: string): number[] {
  const on = new Set<number>();
  const off = new Set<number>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const neg = part.startsWith('^');
    const m = /^(\d+)(?:-(\d+))?$/.exec(neg ? part.slice(1) : part);
    if (!m) throw virtError(ErrorCode.XML_ERROR, `invalid cpuset '${text}' in ${what}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b >= CPUMASK_LEN) throw virtError(ErrorCode.XML_ERROR, `invalid cpuset '${text}' in ${what}: ids must be below ${CPUMASK_LEN}`);
    for (let i = a; i <= b; i++) (neg ? off : on).add(i);
  }
  return [...on].filter((i) => !off.has(i)).sort((x, y) => x - y);
}

/** `0-3,5,7-9`: libvirt's bitmap notation. */
export function formatCpuset(ids: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < ids.length; ) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    out.push(j === i ? `${ids[i]}` : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** A cpuset with ids CPUMASK_LEN..last added, joined to its last range when that ends at CPUMASK_LEN - 1. */
function withTail(text: string, adjacent: boolean, last: number): string {
  const tail = last === CPUMASK_LEN ? `${CPUMASK_LEN}` : `${CPUMASK_LEN}-${last}`;
  if (text === '') return tail;
  if (!adjacent) return `${text},${tail}`;
  const cut = text.lastIndexOf(',') + 1;
  const start = text.slice(cut).split('-')[0];
  return `${text.slice(0, cut)}${start}-${last}`;
}

export function normalizeNuma(def: DomainDef, maxVcpus: number): void {
  const numa = def.root.child('cpu')?.child('numa');
  if (!numa) return;
  const cells = numa.elements('cell');
  const byId = new Map<number, XmlElement>();
  cells.forEach((c, i) => {
    const id = c.hasAttr('id') ? Number(c.attr('id')) : i;
    if (!Number.isInteger(id) || id >= cells.length) {
      throw virtError(ErrorCode.XML_ERROR, 'Exactly one \'cell\' element per guest NUMA cell allowed, non-contiguous ranges or ranges not starting from 0 are not allowed');
    }
    if (byId.has(id)) throw virtError(ErrorCode.XML_ERROR, `Duplicate NUMA cell info for cell id '${id}'`);
    byId.set(id, c);
    c.attrs = [['id', String(id)], ...c.attrs.filter(([k]) => k !== 'id')];
    const cpus = c.attr('cpus');
    if (cpus !== undefined) c.setAttr('cpus', formatCpuset(parseCpuset(cpus, '<numa><cell cpus>')));
    const mem = c.attr('memory');
    if (mem !== undefined) {
      c.setAttr('memory', toKiB(mem, c.attr('unit'), '<numa><cell memory>'));
      c.setAttr('unit', 'KiB');
    }
  });
  // Distances: local distance 10 for a cell that lists any, and the reverse direction where unset.
  const dist = new Map<number, Map<number, number>>();
  for (const [id, c] of byId) {
    for (const s of c.child('distances')?.elements('sibling') ?? []) {
      const sid = Number(s.attr('id'));
      const value = Number(s.attr('value'));
      if (!dist.has(id)) dist.set(id, new Map([[id, 10]]));
      dist.get(id)!.set(sid, value);
      if (!dist.has(sid)) dist.set(sid, new Map([[sid, 10]]));
      const back = dist.get(sid)!;
      if (!back.has(id)) back.set(id, value);
    }
  }
  for (const [id, c] of byId) {
    const d = dist.get(id);
    if (!d) continue;
    let distances = c.child('distances');
    if (!distances) {
      distances = el('distances');
      c.insert(distances, 0);
    }
    distances.children = [...d].sort((a, b) => a[0] - b[0]).map(([sid, v]) => el('sibling', { id: sid, value: v }));
  }
  // vCPUs no cell names belong to cell 0.
  const named = new Set<number>();
  for (const c of byId.values()) for (const i of parseCpuset(c.attr('cpus') ?? '', '<numa><cell cpus>')) named.add(i);
  if (named.size < maxVcpus && byId.has(0)) {
    const cell0 = byId.get(0)!;
    const ids = new Set(parseCpuset(cell0.attr('cpus') ?? '', '<numa><cell cpus>'));
    // Cells name ids below CPUMASK_LEN only: the vCPUs above are one range, written as such (the work
    // stays proportional to the ids named, whatever count <vcpu> says).
    const below = Math.min(maxVcpus, CPUMASK_LEN);
    for (let i = 0; i < below; i++) if (!named.has(i)) ids.add(i);
    const text = formatCpuset([...ids].sort((a, b) => a - b));
    cell0.setAttr('cpus', maxVcpus > CPUMASK_LEN ? withTail(text, ids.has(CPUMASK_LEN - 1), maxVcpus - 1) : text);
  }
  const order = [...byId].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
  let k = 0;
  numa.children = numa.children.map((n) => (n.kind === 'element' && n.name === 'cell' ? order[k++]! : n));
}

/** Sum of the cells' memory in KiB (0 without NUMA). */
export function numaMemoryKiB(def: DomainDef): number {
  let total = 0;
  for (const c of def.root.child('cpu')?.child('numa')?.elements('cell') ?? []) {
    const m = c.attr('memory');
    if (m !== undefined) total += toKiB(m, c.attr('unit'), '<numa><cell memory>');
  }
  return total;
}
