/**
 * `<numatune>` and the vCPU placement as libvirt's parser relates them (virDomainNumatuneParseXML):
 * memory mode defaults to strict; placement is static with a nodeset, else automatic unless vCPUs are
 * placed statically; automatic vCPU placement implies automatic memory placement and the reverse
 * (when nothing is pinned).
 */
import { ErrorCode, virtError } from '../../errors.js';
import { el } from '../../xml/index.js';
import { DOMAIN_ORDER } from '../devices/kinds.js';
import type { DomainDef } from '../domain.js';
import { sortChildren } from './domain-format.js';
import { formatCpuset, parseCpuset } from './numa.js';

const NUMATUNE_ORDER = ['memory', 'memnode'];

export function normalizeNumatune(def: DomainDef): void {
  const root = def.root;
  const vcpu = root.child('vcpu');
  const placementStatic = (vcpu?.attr('placement') ?? 'static') === 'static';
  let numatune = root.child('numatune');
  let memory = numatune?.child('memory');
  if (!placementStatic && !memory) {
    if (!numatune) {
      numatune = el('numatune');
      root.insertOrdered(numatune, DOMAIN_ORDER);
    }
    memory = el('memory', { mode: 'strict', placement: 'auto' });
    numatune.insert(memory, 0);
  } else if (memory) {
    if (!memory.hasAttr('mode')) memory.attrs.unshift(['mode', 'strict']);
    const nodeset = memory.attr('nodeset');
    let placement = memory.attr('placement');
    if (placement === undefined) placement = nodeset !== undefined || placementStatic ? 'static' : 'auto';
    if (placement === 'static' && nodeset === undefined) {
      throw virtError(ErrorCode.CONFIG_UNSUPPORTED, "nodeset for NUMA memory tuning must be set if 'placement' is 'static'");
    }
    memory.attrs = memory.attrs.filter(([k]) => k !== 'placement' && k !== 'nodeset');
    if (placement === 'static') memory.setAttr('nodeset', formatCpuset(parseCpuset(nodeset!, '<numatune><memory nodeset>')));
    else memory.setAttr('placement', placement);
  }
  if (numatune) {
    sortChildren(numatune, NUMATUNE_ORDER);
    for (const n of numatune.elements('memnode')) {
      const ns = n.attr('nodeset');
      if (ns !== undefined) n.setAttr('nodeset', formatCpuset(parseCpuset(ns, '<numatune><memnode nodeset>')));
    }
  }
  const auto = memory?.attr('placement') === 'auto';
  const cputune = root.child('cputune');
  const pinned = !!vcpu?.hasAttr('cpuset') || !!cputune?.child('vcpupin') || !!cputune?.child('emulatorpin') || !!cputune?.child('iothreadpin');
  if (auto && vcpu && !pinned) vcpu.setAttr('placement', 'auto');
  if (vcpu?.attr('placement') === 'auto') vcpu.removeAttr('cpuset');
}
