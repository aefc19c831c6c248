/**
 * What an inactive (define-time) parse of a QEMU domain leaves out or fills in for the formatter:
 * the clock's default UTC offset, channel sockets libvirt named itself, a channel's live state.
 */
import { el } from '../../xml/index.js';
import { DOMAIN_ORDER } from '../devices/kinds.js';
import type { DomainDef } from '../domain.js';
import type { QemuContext } from './context.js';

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function inactiveDefaults(def: DomainDef, ctx: QemuContext): void {
  const clock = def.root.child('clock');
  if (!clock) def.root.insertOrdered(el('clock', { offset: 'utc' }), DOMAIN_ORDER);
  else if (!clock.hasAttr('offset')) clock.attrs.unshift(['offset', 'utc']);

  for (const disk of def.peekNamed('disk')) {
    // Block-job state and node indexes only exist while the domain runs.
    disk.removeChildren('mirror');
    const source = disk.child('source');
    source?.removeAttr('index');
    for (let b = disk.child('backingStore'); b; b = b.child('backingStore')) b.removeAttr('index');
    for (const label of source?.elements('seclabel') ?? []) {
      // labelskip is live state; a label that then only restates the defaults is not printed.
      label.removeAttr('labelskip');
      if (!label.child('label') && label.attr('relabel') !== 'no') source!.remove(label);
    }
  }
  const secModel = ctx.config.securityDriver ?? 'none';
  def.root.elements('seclabel').forEach((label, i) => {
    // Dynamic labels are chosen at start; image labels are always live state.
    if (label.attr('type') !== 'static') label.removeChildren('label');
    label.removeChildren('imagelabel');
    // The first label without a model belongs to the host's security driver (virSecurityLabelDefsParseXML).
    const type = label.attr('type') ?? 'dynamic';
    if (i === 0 && !label.hasAttr('model') && (type === 'none' || (type === 'dynamic' && !label.child('baselabel')))) {
      label.setAttr('model', secModel);
    }
    if (label.attr('model') === 'none') {
      // Older configurations: no security driver means no labelling at all.
      label.attrs = label.attrs.filter(([k]) => k !== 'type' && k !== 'relabel');
      label.attrs.unshift(['type', 'none']);
    }
  });
  for (const iface of def.peekNamed('interface')) iface.child('source')?.removeAttr('portid');
  for (const kind of ['serial', 'console', 'parallel', 'channel']) {
    for (const chr of def.peekNamed(kind)) {
      // A pty's path is chosen when the guest starts.
      if ((chr.attr('type') ?? 'pty') !== 'pty') continue;
      const src = chr.child('source');
      if (src) {
        src.removeAttr('path');
        if (src.attrs.length === 0 && src.children.length === 0) chr.remove(src);
      }
    }
  }

  const dir = ctx.config.channelTargetDir ?? '/var/lib/libvirt/qemu/channel/target';
  for (const ch of def.peekNamed('channel')) {
    const target = ch.child('target');
    if (target?.attr('type') !== 'virtio') continue;
    target.removeAttr('state');
    const src = ch.child('source');
    const path = src?.attr('path');
    const name = target.attr('name');
    if ((ch.attr('type') ?? 'pty') !== 'unix' || !src || path === undefined || name === undefined) continue;
    // libvirt's own pattern for the socket paths it generated (qemuDomainChrDefDropDefaultPath).
    const generated = new RegExp(`^${escapeRe(dir)}/([^/]+\\.)|(domain-[^/]+/)${escapeRe(name)}$`);
    if (generated.test(path)) src.removeAttr('path');
  }
}
