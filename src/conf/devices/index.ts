/** Maps a device element to its typed reader and validator. */
import { ErrorCode, virtError } from '../../errors.js';
import type { XmlElement } from '../../xml/index.js';
import { checkDeviceSize } from '../limits.js';
import { readCommon } from './common.js';
import { readController, validateController, type ControllerDef } from './controller.js';
import { readDisk, validateDisk, type DiskDef } from './disk.js';
import { readInterface, validateInterface, type InterfaceDef } from './interface.js';
import { DEVICE_KINDS } from './kinds.js';
import {
  readChr,
  readGraphics,
  readHostdev,
  readInput,
  readMemballoon,
  readRng,
  readVideo,
  readWatchdog,
  validateOther,
  type ChrDef,
  type GraphicsDef,
  type HostdevDef,
  type InputDef,
  type MemballoonDef,
  type OtherDeviceDef,
  type RngDef,
  type VideoDef,
  type WatchdogDef,
} from './other.js';

export type DeviceDef =
  | DiskDef
  | InterfaceDef
  | ControllerDef
  | InputDef
  | GraphicsDef
  | VideoDef
  | ChrDef
  | MemballoonDef
  | RngDef
  | WatchdogDef
  | HostdevDef
  | OtherDeviceDef;

export function isDeviceElement(name: string): boolean {
  return DEVICE_KINDS.has(name);
}

/** Typed view of any device element. */
export function readDevice(e: XmlElement): DeviceDef {
  switch (e.name) {
    case 'disk':
      return readDisk(e);
    case 'interface':
      return readInterface(e);
    case 'controller':
      return readController(e);
    case 'input':
      return readInput(e);
    case 'graphics':
      return readGraphics(e);
    case 'video':
      return readVideo(e);
    case 'serial':
    case 'console':
    case 'channel':
    case 'parallel':
      return readChr(e);
    case 'memballoon':
      return readMemballoon(e);
    case 'rng':
      return readRng(e);
    case 'watchdog':
      return readWatchdog(e);
    case 'hostdev':
      return readHostdev(e);
    default:
      return { ...readCommon(e), kind: e.name };
  }
}

/**
 * Per-device semantic checks; an element that is no device is libvirt's CONFIG_UNSUPPORTED
 * "unknown device type" (virDomainDeviceDefParse). `forMatch` relaxes what a detach XML need not say.
 */
export function validateDevice(e: XmlElement, forMatch = false): void {
  if (!isDeviceElement(e.name)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `unknown device type '${e.name}'`);
  checkDeviceSize(e);
  switch (e.name) {
    case 'disk':
      validateDisk(e);
      return;
    case 'interface':
      validateInterface(e, forMatch);
      return;
    case 'controller':
      validateController(e);
      return;
    default:
      if (!forMatch) validateOther(e);
  }
}

export type { DiskDef, InterfaceDef, ControllerDef };
export type { ChrDef, GraphicsDef, HostdevDef, InputDef, MemballoonDef, OtherDeviceDef, RngDef, VideoDef, WatchdogDef };
