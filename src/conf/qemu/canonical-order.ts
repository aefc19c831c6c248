/**
 * The order libvirt prints devices in: grouped by kind in its formatter's order, each kind in list
 * order — controllers as virDomainControllerInsert files them (same type kept together, ordered by
 * index, a USB master before its companions), the primary video card first.
 */
import type { XmlElement, XmlNode } from '../../xml/index.js';
import { DEVICES_ORDER } from '../devices/kinds.js';
import type { DomainDef } from '../domain.js';

const RANK = new Map<string, number>(DEVICES_ORDER.map((n, i) => [n, i]));

/** Index of a controller as the parser sees it (-1: none given yet). */
const idx = (c: XmlElement): number => (c.hasAttr('index') ? Number(c.attr('index')) : -1);

/** Re-files the controllers as libvirt's parser would have inserted them, one by one in document order. */
export function sortControllers(def: DomainDef): void {
  const controllers = def.elementsNamed('controller');
  if (controllers.length < 2) return;
  const list: XmlElement[] = [];
  for (const c of controllers) {
    let insertAt = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      const cur = list[i]!;
      if (cur.attr('type') !== c.attr('type')) continue;
      if (idx(c) === -1) {
        insertAt = i + 1;
        break;
      }
      if (idx(cur) > idx(c)) insertAt = i;
      else if (!c.child('master') && cur.child('master') && idx(cur) === idx(c)) insertAt = i;
      else if (insertAt === -1) insertAt = i + 1;
    }
    if (insertAt === -1) list.push(c);
    else list.splice(insertAt, 0, c);
  }
  if (list.every((c, i) => c === controllers[i])) return;
  // Put the re-ordered controllers back into the slots the controllers occupied.
  const devices = def.devicesElement();
  let k = 0;
  devices.children = devices.children.map((n) => (n.kind === 'element' && n.name === 'controller' ? list[k++]! : n));
  def.reindexDevices();
}

/** Sorts `<devices>` children by kind (stable), moving a primary video card first among videos. */
export function canonicalDeviceOrder(def: DomainDef): void {
  const devices = def.devicesElement();
  const kids = devices.children;
  let sorted = true;
  let last = -1;
  for (const n of kids) {
    if (n.kind !== 'element') continue;
    const r = RANK.get(n.name) ?? DEVICES_ORDER.length;
    if (r < last) {
      sorted = false;
      break;
    }
    last = r;
  }
  const videos = def.elementsNamed('video');
  const primary = videos.findIndex((v) => v.child('model')?.attr('primary') === 'yes');
  if (sorted && primary <= 0) return;
  // Comments travel with the element that follows them; layout whitespace is rewritten anyway.
  const groups: { el: XmlElement; lead: XmlNode[] }[] = [];
  let lead: XmlNode[] = [];
  for (const n of kids) {
    if (n.kind === 'element') {
      groups.push({ el: n, lead });
      lead = [];
    } else if (n.kind !== 'text' || n.text.trim() !== '') lead.push(n);
  }
  if (primary > 0) {
    const vi = groups.findIndex((g) => g.el === videos[primary]);
    const first = groups.findIndex((g) => g.el === videos[0]);
    const [g] = groups.splice(vi, 1);
    groups.splice(first, 0, g!);
  }
  const rank = (e: XmlElement): number => RANK.get(e.name) ?? DEVICES_ORDER.length;
  const order = groups.map((g, i) => ({ g, i })).sort((a, b) => rank(a.g.el) - rank(b.g.el) || a.i - b.i);
  devices.children = [...order.flatMap(({ g }) => [...g.lead, g.el]), ...lead];
  def.reindexDevices();
}
