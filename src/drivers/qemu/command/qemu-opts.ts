/**
 * How values reach QEMU without option injection: JSON for -device/-blockdev/-netdev/-object/-audiodev
 * (a path or name is one JSON string, whatever it contains), and for the few options that only take
 * QEMU's key=value syntax, every value escaped (`,` doubled) and checked for what escaping cannot make
 * safe. Ids QEMU uses (device ids, node names, netdev ids) are checked against QEMU's own rule.
 */
import { ErrorCode, virtError } from '../../../errors.js';
import type { JsonObject } from '../qmp/protocol.js';

/** QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
const QEMU_ID = /^[A-Za-z][A-Za-z0-9._-]*$/;
/** Block node names are also limited to 31 characters. */
const NODE_NAME_MAX = 31;

export function checkQemuId(id: string, what: string): string {
  if (!QEMU_ID.test(id) || id.length > 255) {
    throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `${what} '${id}' cannot be used as a QEMU id (a letter, then letters, digits, '-', '.', '_')`);
  }
  return id;
}

export function checkNodeName(name: string): string {
  checkQemuId(name, 'block node name');
  if (name.length > NODE_NAME_MAX) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `block node name '${name}' is longer than ${NODE_NAME_MAX} characters`);
  return name;
}

/** A value for QEMU's key=value option syntax: commas doubled; NUL and newlines refused. */
export function optValue(value: string, what: string): string {
  if (/[\0\n\r]/.test(value)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `${what} must not contain NUL or line breaks`);
  return value.replaceAll(',', ',,');
}

/** A plain argument QEMU takes verbatim (-kernel, -append): only NUL is impossible in argv. */
export function plainArg(value: string, what: string): string {
  if (value.includes('\0')) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `${what} must not contain NUL`);
  return value;
}

/** An absolute path for QEMU to open. */
export function absolutePath(value: string, what: string): string {
  if (!value.startsWith('/')) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `${what} '${value}' must be an absolute path`);
  if (/[\0\n\r]/.test(value)) throw virtError(ErrorCode.CONFIG_UNSUPPORTED, `${what} must not contain NUL or line breaks`);
  return value;
}

/** One JSON-form option argument, e.g. for `-device`. Undefined members are dropped by JSON.stringify. */
export function jsonArg(props: JsonObject): string {
  return JSON.stringify(props);
}

/** `0x3` or `0x1.0x2`: QEMU's PCI addr property as libvirt writes it. */
export function pciAddrProp(slot: number, fn: number): string {
  return fn === 0 ? `0x${slot.toString(16)}` : `0x${slot.toString(16)}.0x${fn.toString(16)}`;
}
