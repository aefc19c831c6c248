/**
 * Ports on virtio-serial controllers (qemuDomainAssignVirtioSerialAddresses): addresses already given
 * are reserved, then virtio consoles and channels take the lowest free port (port 0 only for
 * consoles; a console's port is reserved but not written, as libvirt does). A full set of
 * controllers gets another one.
 */
import { ErrorCode, virtError } from '../../errors.js';
import { el, type XmlElement } from '../../xml/index.js';
import { setAddress } from '../devices/common.js';
import type { DomainDef } from '../domain.js';

const DEFAULT_PORTS = 31;

interface Ctrl {
  index: number;
  ports: boolean[];
}

const num = (v: string | undefined): number => (v === undefined ? 0 : Number(v));

export function assignVirtioSerialAddresses(def: DomainDef): void {
  const ctrls: Ctrl[] = [];
  const add = (c: XmlElement): void => {
    const ports = c.attr('ports') === undefined ? DEFAULT_PORTS : Number(c.attr('ports'));
    ctrls.push({ index: num(c.attr('index')), ports: new Array<boolean>(Math.max(0, Math.min(ports, 4096))).fill(false) });
    ctrls.sort((a, b) => a.index - b.index);
  };
  for (const c of def.peekNamed('controller')) if (c.attr('type') === 'virtio-serial') add(c);
  const reserve = (controller: number, port: number): void => {
    const c = ctrls.find((x) => x.index === controller);
    if (!c) throw virtError(ErrorCode.XML_ERROR, `virtio serial controller ${controller} is missing`);
    if (port >= c.ports.length) throw virtError(ErrorCode.XML_ERROR, `virtio serial controller ${controller} does not have port ${port}`);
    if (c.ports[port]) throw virtError(ErrorCode.XML_ERROR, `virtio serial port ${port} on controller ${controller} is already occupied`);
    c.ports[port] = true;
  };
  const devices = def.peekDevices();
  for (const d of devices) {
    const a = d.child('address');
    if (a?.attr('type') === 'virtio-serial' && num(a.attr('port')) !== 0) reserve(num(a.attr('controller')), num(a.attr('port')));
  }
  const assign = (chr: XmlElement, allowZero: boolean): void => {
    const a = chr.child('address');
    if (a?.attr('type') === 'virtio-serial' && num(a.attr('port')) !== 0) return;
    let controller: number;
    let port: number;
    if (a?.attr('type') === 'virtio-serial') {
      // Controller named, port left to libvirt.
      controller = num(a.attr('controller'));
      const c = ctrls.find((x) => x.index === controller);
      if (!c) throw virtError(ErrorCode.INTERNAL_ERROR, `virtio-serial controller ${controller} not available`);
      port = c.ports.indexOf(false, 1);
      if (port <= 0) throw virtError(ErrorCode.XML_ERROR, `Unable to find a free port on virtio-serial controller ${controller}`);
    } else {
      const start = allowZero ? 0 : 1;
      const c = ctrls.find((x) => x.ports.indexOf(false, start) >= 0);
      if (c) {
        controller = c.index;
        port = c.ports.indexOf(false, start);
      } else {
        controller = 0;
        while (def.peekNamed('controller').some((x) => x.attr('type') === 'virtio-serial' && num(x.attr('index')) === controller)) controller++;
        const nc = el('controller', { type: 'virtio-serial', index: controller });
        def.addDevice(nc);
        add(nc);
        port = start;
      }
    }
    reserve(controller, port);
    if (!allowZero) setAddress(chr, el('address', { type: 'virtio-serial', controller, bus: 0, port }));
  };
  for (const c of def.peekNamed('console')) if (c.child('target')?.attr('type') === 'virtio') assign(c, true);
  for (const c of def.peekNamed('channel')) if (c.child('target')?.attr('type') === 'virtio') assign(c, false);
}
