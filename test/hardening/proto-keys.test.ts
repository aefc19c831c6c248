/**
 * Issue 10 item 8: values read from XML are looked up only among a table's own entries, so names of
 * Object.prototype's members ('__proto__', 'constructor', 'toString') are unknown values like any
 * other, never an object or a function leaking into a definition or a SyntaxError.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { conf, ErrorCode } from '../../src/index.js';
import { freshConnection, rejectsWith } from '../core/helpers.js';

const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
const LEAKS = /native code|\[object Object\]|function |=> /;

test("memory units named after Object's members are unknown units (was SyntaxError)", async () => {
  const conn = await freshConnection();
  for (const unit of PROTO_NAMES) {
    const xml = `<domain type='qemu'><name>u</name><memory unit='${unit}'>65536</memory></domain>`;
    await rejectsWith(conn.defineXML(xml), ErrorCode.XML_ERROR, new RegExp(`unknown unit '${unit}' in <memory>`));
  }
  assert.throws(() => conf.toKiB('1', '__proto__', '<memory>'), /unknown unit '__proto__'/);
  await conn.close();
});

test("arch, models, protocols and types named after Object's members never leak objects into the definition", async () => {
  const conn = await freshConnection();
  for (const name of PROTO_NAMES) {
    const devices = [
      `<video><model type='${name}'/></video>`,
      `<serial type='pty'><target type='${name}'/></serial>`,
      `<controller type='usb' model='${name}'/>`,
      `<disk type='network' device='disk'><source protocol='${name}' name='x'><host name='h'/></source><target dev='vda'/></disk>`,
      `<interface type='user'><model type='${name}'/></interface>`,
      `<audio id='1' type='${name}'/>`,
    ];
    for (const [i, dev] of devices.entries()) {
      const xml = `<domain type='qemu'><name>k${i}</name><memory>65536</memory><os><type arch='${i === 0 ? name : 'x86_64'}'>hvm</type></os><devices>${dev}</devices></domain>`;
      try {
        const dom = await conn.defineXML(xml);
        const dumped = await dom.getXMLDesc();
        assert.doesNotMatch(dumped, LEAKS, `${name} in ${dev}`);
        await dom.undefine();
      } catch (err) {
        // Refusing the value is fine too, as long as it is a VirtError.
        assert.ok(err instanceof Error && err.name === 'VirtError', `${name} in ${dev}: ${String(err)}`);
      }
    }
  }
  await conn.close();
});

test("QEMU capabilities XML with accelerator types named after Object's members is read, not a TypeError", () => {
  for (const name of PROTO_NAMES) {
    const caps = conf.loadLibvirtCapsXml(
      `<qemuCaps><emulator>/usr/bin/qemu-system-x86_64</emulator><arch>x86_64</arch><version>7002000</version>` +
        `<cpu type='${name}' name='qemu64' typename='qemu64-x86_64-cpu'/><machine type='${name}' name='pc'/>` +
        `<machine type='tcg' name='pc-i440fx-7.2'/></qemuCaps>`,
    );
    assert.deepEqual(caps.machines.tcg.map((m) => m.name), ['pc-i440fx-7.2']);
  }
});
