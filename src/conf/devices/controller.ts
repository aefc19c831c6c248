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

/**
 * libvirt reads a controller index as a C int (virXMLPropInt) and a PCI controller's index is its bus
 * number (0-255). Past these, steps that walk buses or controller indexes (PCI address assignment
 * adds a bus for every index up to the highest) would loop for as long as the number says.
 */
export const MAX_CONTROLLER_INDEX = 2_147_483_647;
export const MAX_PCI_CONTROLLER_INDEX = 255;

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
  if (index === undefined) return;
  const text = index.trim();
  const invalid = (expected: string) => virtError(ErrorCode.XML_ERROR, `Invalid value for attribute 'index' in element 'controller': '${index}'. Expected ${expected}`);
  if (/^-\d+$/.test(text) && Number(text) !== 0) throw invalid('non-negative value');
  if (!/^\d+$/.test(text) || Number(text) > MAX_CONTROLLER_INDEX) throw invalid('integer value');
  const n = Number(text);
  if (type === 'pci' && n > MAX_PCI_CONTROLLER_INDEX) {
    throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `PCI controller index ${n} too high, maximum is ${MAX_PCI_CONTROLLER_INDEX}`);
  }
}
