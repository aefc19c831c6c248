/** `<controller>`: typed view and validation. */
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';
import { readCommon, type DeviceCommon } from './common.js';

export interface ControllerDef extends DeviceCommon {
  kind: 'controller';
  type: string;
  index: number;
  model?: string;
}

const CONTROLLER_TYPES = new Set(['ide', 'fdc', 'scsi', 'sata', 'virtio-serial', 'ccid', 'usb', 'pci', 'xenbus', 'isa']);

export function readController(c: XmlElement): ControllerDef {
  return {
    ...readCommon(c),
    kind: 'controller',
    type: c.attr('type') ?? '',
    index: Number(c.attr('index') ?? 0),
    model: c.attr('model'),
  };
}

export function validateController(c: XmlElement): void {
  const type = c.attr('type');
  if (type === undefined || !CONTROLLER_TYPES.has(type)) {
    throw virtError(ErrorCode.XML_ERROR, `unknown controller type '${type ?? ''}'`);
  }
  const index = c.attr('index');
  if (index !== undefined && !/^\d+$/.test(index.trim())) {
    throw virtError(ErrorCode.XML_ERROR, `cannot parse controller index '${index}'`);
  }
}
