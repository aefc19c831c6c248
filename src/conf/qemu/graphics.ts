/**
 * `<graphics>` as libvirt parses and prints it (VNC, SPICE, RDP): every display has at least one
 * `<listen>` (made from the legacy `listen`/`socket` attributes when absent), autoport and the port
 * follow each other (`port='-1'` is autoport; an autoport display keeps no port in inactive XML), the
 * first listen address is echoed as the `listen` attribute, and a SPICE display with no port and no
 * autoport listens nowhere. Sockets libvirt generated under its own directory are dropped.
 */
import { el, type XmlElement } from '../../xml/index.js';
import type { DomainDef } from '../domain.js';
import type { QemuContext } from './context.js';

function setOrDrop(e: XmlElement, name: string, value: string | number | undefined): void {
  if (value === undefined) e.removeAttr(name);
  else e.setAttr(name, value);
}

const int = (v: string | undefined): number => (v === undefined || !/^-?\d+$/.test(v.trim()) ? 0 : Number(v));

/** The `<listen>` children, made from the legacy attributes when there are none (virDomainGraphicsListensParseXML). */
function listens(g: XmlElement, vnc: boolean): XmlElement[] {
  let list = g.elements('listen');
  const socket = vnc ? g.attr('socket') : undefined;
  const address = g.attr('listen') || undefined;
  if (list.length === 0) {
    const l = socket !== undefined ? el('listen', { type: 'socket', socket }) : el('listen', { type: 'address', address });
    const at = g.children.findIndex((c) => c.kind === 'element');
    if (at >= 0) g.children.splice(at, 0, l);
    else g.children.push(l);
    list = [l];
  } else {
    const first = list[0]!;
    const t = first.attr('type');
    if ((t === 'address' || t === 'network') && socket !== undefined) {
      const l = el('listen', { type: 'socket', socket });
      g.children[g.children.indexOf(first)] = l;
      list[0] = l;
    } else if (t === 'address' && !first.hasAttr('address') && address !== undefined) first.setAttr('address', address);
    else if (t === 'socket' && !first.hasAttr('socket') && socket !== undefined) first.setAttr('socket', socket);
  }
  for (const l of list) {
    // Inactive XML never keeps the address a network listen resolved to.
    if (l.attr('type') === 'network') l.removeAttr('address');
    if (l.attr('address') === '') l.removeAttr('address');
  }
  return list;
}

/** The legacy `listen` attribute mirrors the first listen's address. */
function listenAttr(g: XmlElement, first: XmlElement): void {
  setOrDrop(g, 'listen', first.attr('type') === 'address' ? first.attr('address') : undefined);
}

function vnc(g: XmlElement, libDir: string): void {
  const list = listens(g, true);
  let first = list[0]!;
  // A socket libvirt generated under its own directory is not configuration (qemuDomainRecheckInternalPaths).
  const sock = first.attr('socket');
  if (first.attr('type') === 'socket' && sock !== undefined && sock.startsWith(libDir)) {
    const l = el('listen', { type: 'address' });
    g.children[g.children.indexOf(first)] = l;
    first = l;
    list[0] = l;
  }
  if (first.attr('type') === 'socket') {
    for (const a of ['port', 'autoport', 'listen', 'websocket']) g.removeAttr(a);
    setOrDrop(g, 'socket', first.attr('socket'));
    return;
  }
  g.removeAttr('socket');
  if (first.attr('type') === 'none') {
    for (const a of ['port', 'autoport', 'listen', 'websocket']) g.removeAttr(a);
    return;
  }
  const portAttr = g.attr('port');
  let port = portAttr === undefined ? 0 : int(portAttr);
  let autoport = portAttr === undefined || port === -1;
  if (port === -1) port = 0;
  const ap = g.attr('autoport');
  if (ap === 'yes') autoport = true;
  else if (ap === 'no') autoport = false;
  if (autoport) port = 0;
  setOrDrop(g, 'port', port && !autoport ? port : autoport ? -1 : undefined);
  g.setAttr('autoport', autoport ? 'yes' : 'no');
  if (g.attr('websocket') === '0') g.removeAttr('websocket');
  listenAttr(g, first);
}

function spice(g: XmlElement): void {
  const list = listens(g, false);
  const first = list[0]!;
  let port = int(g.attr('port'));
  let tlsPort = int(g.attr('tlsPort'));
  let autoport = g.attr('autoport') === 'yes';
  if (port === -1 && tlsPort === -1) autoport = true;
  if (autoport) {
    port = 0;
    tlsPort = 0;
  }
  if (first.attr('type') === 'address' && !first.hasAttr('address') && port === 0 && tlsPort === 0 && !autoport) {
    // No port and no autoport: SPICE listens nowhere (virDomainDefPostParseGraphics).
    first.attrs = [['type', 'none']];
  }
  const t = first.attr('type');
  if (t === 'address' || t === 'network') {
    setOrDrop(g, 'port', port || undefined);
    setOrDrop(g, 'tlsPort', tlsPort || undefined);
    g.setAttr('autoport', autoport ? 'yes' : 'no');
    listenAttr(g, first);
  } else {
    for (const a of ['port', 'tlsPort', 'autoport', 'listen']) g.removeAttr(a);
  }
  if (g.attr('defaultMode') === 'any') g.removeAttr('defaultMode');
}

function rdp(g: XmlElement): void {
  const list = listens(g, false);
  const portAttr = g.attr('port');
  let port = portAttr === undefined ? 0 : int(portAttr);
  let autoport = portAttr === undefined || port === -1;
  if (g.attr('autoport') === 'yes') autoport = true;
  if (autoport) port = 0;
  setOrDrop(g, 'port', port || (autoport ? 0 : undefined));
  setOrDrop(g, 'autoport', autoport ? 'yes' : undefined);
  for (const a of ['replaceUser', 'multiUser']) if (g.attr(a) !== 'yes') g.removeAttr(a);
  listenAttr(g, list[0]!);
}

/** One `<graphics>` as libvirt's parser leaves it; `libDir` is where libvirt generates VNC sockets. */
export function normalizeGraphicsElement(g: XmlElement, libDir = '/var/lib/libvirt/qemu'): void {
  switch (g.attr('type')) {
    case 'vnc':
      vnc(g, libDir);
      break;
    case 'spice':
      spice(g);
      break;
    case 'rdp':
      rdp(g);
      break;
  }
}

export function normalizeGraphics(def: DomainDef, ctx: QemuContext): void {
  for (const g of def.peekNamed('graphics')) normalizeGraphicsElement(g, ctx.config.libDir);
}
