/**
 * attach / detach / update × flags × domain state × device kind, checking where the
 * change landed (live and/or config) or the exact error code with nothing changed.
 */
import assert from 'node:assert/strict';
import { type Connection, DeviceModify, type DetachResult, type Domain, DomainXML, ErrorCode } from '../../src/index.js';
import { domainXml, parsed, rejectsWith } from '../core/helpers.js';
import { type Contract, contractTest, lacking, requires } from './harness.js';

type State = 'running' | 'paused' | 'shutoff' | 'transient';
type Op = 'attach' | 'detach' | 'update';
type Kind = 'disk' | 'interface';

const CDROM = (iso: string) =>
  `<disk type='file' device='cdrom'><source file='/iso/${iso}'/><target dev='sdc' bus='scsi'/><readonly/></disk>`;
const NIC = (link?: string) =>
  `<interface type='bridge'><mac address='52:54:00:aa:00:01'/><source bridge='br0'/><model type='virtio'/>${link ? `<link state='${link}'/>` : ''}</interface>`;
const NEW_DISK = `<disk type='file' device='disk'><source file='/img/new.img'/><target dev='vdb' bus='virtio'/></disk>`;

/** The device XML each op sends, and a probe telling whether the op's effect is visible in a definition. */
const cases: Record<Op, Record<Kind, { xml: string; present: string; effect: (domXml: string) => boolean }>> = {
  attach: {
    disk: { xml: NEW_DISK, present: '', effect: (x) => x.includes("dev='vdb'") },
    interface: { xml: NIC(), present: '', effect: (x) => x.includes('52:54:00:aa:00:01') },
  },
  detach: {
    disk: { xml: NEW_DISK, present: NEW_DISK, effect: (x) => !x.includes("dev='vdb'") },
    interface: { xml: NIC(), present: NIC(), effect: (x) => !x.includes('52:54:00:aa:00:01') },
  },
  update: {
    disk: { xml: CDROM('b.iso'), present: CDROM('a.iso'), effect: (x) => x.includes('/iso/b.iso') },
    interface: {
      xml: NIC('down'),
      present: NIC(),
      effect: (x) => parsed(x).child('devices')!.elements('interface').some((n) => n.child('link')?.attr('state') === 'down'),
    },
  },
};

const flagSets: [string, number][] = [
  ['CURRENT', DeviceModify.CURRENT],
  ['LIVE', DeviceModify.LIVE],
  ['CONFIG', DeviceModify.CONFIG],
  ['LIVE|CONFIG', DeviceModify.LIVE | DeviceModify.CONFIG],
];

/** Which definitions an op with these flags must change, or the error code it must raise. */
function expected(state: State, flags: number): { live: boolean; config: boolean } | number {
  const active = state !== 'shutoff';
  const persistent = state !== 'transient';
  let live = (flags & 1) !== 0;
  let config = (flags & 2) !== 0;
  if (!live && !config) {
    if (active) live = true;
    else config = true;
  }
  if (live && !active) return ErrorCode.OPERATION_INVALID;
  if (config && !persistent) return ErrorCode.OPERATION_INVALID;
  return { live, config };
}

async function setup(c: Contract, conn: Connection, state: State, present: string): Promise<Domain> {
  const xml = c.domain(domainXml({ name: `m-${state}`, devices: present }), conn);
  if (state === 'transient') return conn.createXML(xml);
  const dom = await conn.defineXML(xml);
  if (state !== 'shutoff') await dom.create();
  if (state === 'paused') await dom.suspend();
  return dom;
}

async function snapshot(dom: Domain): Promise<{ live?: string; config?: string }> {
  const active = await dom.isActive();
  const persistent = await dom.isPersistent();
  return {
    live: active ? await dom.getXMLDesc() : undefined,
    config: persistent ? await dom.getXMLDesc(DomainXML.INACTIVE) : undefined,
  };
}

function call(dom: Domain, op: Op, xml: string, flags: number): Promise<unknown> {
  if (op === 'attach') return dom.attachDeviceFlags(xml, flags);
  if (op === 'detach') return dom.detachDeviceFlags(xml, flags);
  return dom.updateDeviceFlags(xml, flags);
}

/** A paused guest answers no unplug until it runs again: `pending`, then removed after the resume. */
async function pausedDetach(conn: Connection, dom: Domain, result: DetachResult, effect: (x: string) => boolean, label: string): Promise<void> {
  assert.equal(result.outcome, 'pending', `${label}: a paused guest does not answer`);
  assert.equal(effect(await dom.getXMLDesc()), false, `${label}: still in the live XML while paused`);
  const stream = conn.events({ domain: dom.name, types: ['device-removed'] });
  await stream.ready;
  await dom.resume();
  const { value } = await stream.next();
  assert.equal(value?.type, 'device-removed', `${label}: removed once resumed`);
  await stream.return?.();
  assert.equal(effect(await dom.getXMLDesc()), true, `${label}: gone from the live XML after the resume`);
}

for (const op of ['attach', 'detach', 'update'] as Op[]) {
  for (const kind of ['disk', 'interface'] as Kind[]) {
    for (const state of ['running', 'paused', 'shutoff', 'transient'] as State[]) {
      contractTest(`${op} ${kind} on a ${state} domain × every flag combination`, async (c) => {
        // The flag combinations run side by side, each on its own connection: a real guest boots once per
        // combination, and boots overlap.
        await Promise.all(flagSets.map(async ([flagName, flags]) => {
          // A paused guest makes a detach wait the whole unplug timeout: keep it short. A running one answers
          // within the target's default (a real guest may have to boot first).
          const conn = await c.open(state === 'paused' ? { unplugTimeoutMs: 50 } : {});
          const k = cases[op][kind];
          const dom = await setup(c, conn, state, k.present);
          const before = await snapshot(dom);
          const want = expected(state, flags);
          const label = `${op} ${kind} ${state} ${flagName}`;
          if (typeof want === 'number') {
            await rejectsWith(call(dom, op, c.device(k.xml, conn), flags), want);
            assert.deepEqual(await snapshot(dom), before, `${label}: nothing changed`);
          } else {
            const result = await call(dom, op, c.device(k.xml, conn), flags);
            const after = await snapshot(dom);
            if (before.config !== undefined) assert.equal(k.effect(after.config!), want.config, `${label}: config changed = ${want.config}`);
            if (op === 'detach' && state === 'paused' && want.live) {
              await pausedDetach(conn, dom, result as DetachResult, k.effect, label);
            } else if (before.live !== undefined) {
              assert.equal(k.effect(after.live!), want.live, `${label}: live changed = ${want.live}`);
            }
          }
          // A real guest left running would keep a CPU busy while the other combinations boot theirs.
          if (await dom.isActive()) await dom.destroy();
          await conn.close();
        }));
      });
    }
  }
}

contractTest('unknown flag bits are INVALID_ARG for every hot-plug call, nothing changes', async (c) => {
  const conn = await c.open();
  const dom = await setup(c, conn, 'running', NIC());
  const before = await snapshot(dom);
  await rejectsWith(dom.attachDeviceFlags(c.device(NEW_DISK), 8), ErrorCode.INVALID_ARG, /unsupported flags \(0x8\) in function virDomainAttachDeviceFlags/);
  await rejectsWith(dom.detachDeviceFlags(c.device(NIC()), 4), ErrorCode.INVALID_ARG, /0x4/);
  await rejectsWith(dom.updateDeviceFlags(c.device(NIC('down')), 8), ErrorCode.INVALID_ARG);
  await rejectsWith(dom.detachDeviceAlias('net0', 16), ErrorCode.INVALID_ARG);
  assert.deepEqual(await snapshot(dom), before);
  await conn.close();
});

contractTest('flag-less attachDevice/detachDevice mean LIVE: a shut-off domain says "domain is not running"', async (c) => {
  const conn = await c.open();
  const dom = await setup(c, conn, 'shutoff', '');
  await rejectsWith(dom.attachDevice(c.device(NEW_DISK)), ErrorCode.OPERATION_INVALID, /domain is not running/);
  await rejectsWith(dom.detachDevice(c.device(NEW_DISK)), ErrorCode.OPERATION_INVALID, /domain is not running/);
  await conn.close();
});

contractTest('update FORCE is accepted for media change; disk source of a non-removable disk cannot change live', async (c) => {
  const conn = await c.open();
  const dom = await setup(c, conn, 'running', CDROM('a.iso') + NEW_DISK);
  await dom.updateDeviceFlags(c.device(CDROM('c.iso')), DeviceModify.LIVE | DeviceModify.FORCE);
  assert.match(await dom.getXMLDesc(), /\/iso\/c\.iso/);
  // Eject: a cdrom without <source>.
  await dom.updateDeviceFlags(c.device(`<disk type='file' device='cdrom'><target dev='sdc' bus='scsi'/><readonly/></disk>`), DeviceModify.LIVE);
  assert.doesNotMatch(await dom.getXMLDesc(), /\/iso\//);
  await rejectsWith(
    dom.updateDeviceFlags(c.device(NEW_DISK.replace('new.img', 'other.img')), DeviceModify.LIVE),
    ErrorCode.CONFIG_UNSUPPORTED,
    /only in removable drives/,
  );
  await conn.close();
});

contractTest('interface update: MAC and model changes are refused live with OPERATION_UNSUPPORTED', async (c) => {
  const conn = await c.open();
  const dom = await setup(c, conn, 'running', NIC());
  await rejectsWith(dom.updateDeviceFlags(c.device(NIC().replace("type='virtio'", "type='e1000'")), DeviceModify.LIVE), ErrorCode.OPERATION_UNSUPPORTED, /model/);
  await rejectsWith(
    dom.updateDeviceFlags(c.device(NIC().replace("source bridge='br0'", "source bridge='br1'")), DeviceModify.LIVE),
    ErrorCode.OPERATION_UNSUPPORTED,
  );
  // An update naming a MAC no device has is DEVICE_MISSING.
  await rejectsWith(dom.updateDeviceFlags(c.device(NIC().replace('aa:00:01', 'aa:00:09')), DeviceModify.LIVE), ErrorCode.DEVICE_MISSING);
  await conn.close();
});

/** The whole message, as libvirt 9.0 with QEMU 7.2 words it (prefix included). */
const exactly = (text: string): RegExp => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);

contractTest('attach errors as libvirt 9.0 + QEMU 7.2 give them: duplicate target, no target, unknown element, unpluggable bus, floppy', async (c) => {
  const conn = await c.open();
  const dom = await setup(c, conn, 'running', NEW_DISK);
  const before = await snapshot(dom);
  const again = NEW_DISK.replace('new.img', 'again.img');
  // Live: virDomainDiskDefCheckDuplicateInfo (the disk already there first); config (also LIVE|CONFIG, config goes first): "already exists".
  // The domain's disk as the target has it (a real one in the connection's folder for QEMU).
  const newImg = /<source file='([^']+)'/.exec(c.device(NEW_DISK))![1]!;
  await rejectsWith(dom.attachDeviceFlags(again, DeviceModify.LIVE), ErrorCode.XML_ERROR, exactly(`XML error: target 'vdb' duplicated for disk sources '${newImg}' and '/img/again.img'`));
  await rejectsWith(dom.attachDeviceFlags(c.device(`<disk type='file' device='cdrom'><target dev='vdb' bus='scsi'/></disk>`), DeviceModify.LIVE), ErrorCode.XML_ERROR, exactly(`XML error: target 'vdb' duplicated for disk sources '${newImg}' and '<null>'`));
  await rejectsWith(dom.attachDeviceFlags(again, DeviceModify.CONFIG), ErrorCode.OPERATION_INVALID, exactly('Requested operation is not valid: target vdb already exists'));
  await rejectsWith(dom.attachDeviceFlags(again, DeviceModify.LIVE | DeviceModify.CONFIG), ErrorCode.OPERATION_INVALID, /target vdb already exists/);
  // VIR_ERR_NO_TARGET names the source, or nothing.
  await rejectsWith(dom.attachDeviceFlags(`<disk type='file'><source file='/img/t.img'/></disk>`, DeviceModify.LIVE), ErrorCode.NO_TARGET, exactly('missing target information for device /img/t.img'));
  await rejectsWith(dom.attachDeviceFlags(c.device(`<disk type='file' device='cdrom'/>`), DeviceModify.CONFIG), ErrorCode.NO_TARGET, exactly('missing target information for device'));
  for (const flags of [DeviceModify.LIVE, DeviceModify.CONFIG]) {
    await rejectsWith(dom.attachDeviceFlags(c.device(`<gizmo/>`), flags), ErrorCode.CONFIG_UNSUPPORTED, exactly("unsupported configuration: unknown device type 'gizmo'"));
  }
  await rejectsWith(dom.detachDeviceFlags(c.device(`<gizmo/>`), DeviceModify.LIVE), ErrorCode.CONFIG_UNSUPPORTED, /unknown device type 'gizmo'/);
  await rejectsWith(dom.updateDeviceFlags(c.device(`<gizmo/>`), DeviceModify.LIVE), ErrorCode.CONFIG_UNSUPPORTED, /unknown device type 'gizmo'/);
  // pc: SATA has no controller to plug into (libvirt does not add one live); IDE is built in, and QEMU refuses the plug.
  await rejectsWith(
    dom.attachDeviceFlags(c.device(`<disk type='file'><source file='/a'/><target dev='sdb' bus='sata'/></disk>`), DeviceModify.LIVE),
    ErrorCode.INTERNAL_ERROR,
    exactly('internal error: Could not find sata controller with index 0 required for device'),
  );
  await rejectsWith(
    dom.attachDeviceFlags(c.device(`<disk type='file'><source file='/a'/><target dev='hdc' bus='ide'/></disk>`), DeviceModify.LIVE),
    ErrorCode.INTERNAL_ERROR,
    exactly("internal error: unable to execute QEMU command 'device_add': Bus 'ide.1' does not support hotplugging"),
  );
  await rejectsWith(
    dom.attachDeviceFlags(c.device(`<disk type='file' device='floppy'><source file='/a'/><target dev='fda'/></disk>`), DeviceModify.LIVE),
    ErrorCode.OPERATION_UNSUPPORTED,
    exactly("Operation not supported: floppy device hotplug isn't supported"),
  );
  await rejectsWith(dom.attachDeviceFlags(c.device(`<video><model type='vga'/></video>`), DeviceModify.LIVE), ErrorCode.OPERATION_UNSUPPORTED, /live attach of device 'video'/);
  assert.deepEqual(await snapshot(dom), before);
  await conn.close();
});

contractTest('SATA disks live: on q35 the built-in AHCI refuses the plug (QEMU), a missing second controller is named', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'sata-q35', machine: 'q35' })));
  await dom.create();
  const before = await snapshot(dom);
  await rejectsWith(
    dom.attachDeviceFlags(c.device(`<disk type='file'><source file='/a'/><target dev='sdb' bus='sata'/></disk>`), DeviceModify.LIVE),
    ErrorCode.INTERNAL_ERROR,
    exactly("internal error: unable to execute QEMU command 'device_add': Bus 'ide.1' does not support hotplugging"),
  );
  await rejectsWith(
    dom.attachDeviceFlags(c.device(`<disk type='file'><source file='/a'/><target dev='sdh' bus='sata'/></disk>`), DeviceModify.LIVE),
    ErrorCode.INTERNAL_ERROR,
    exactly('internal error: Could not find sata controller with index 1 required for device'),
  );
  assert.deepEqual(await snapshot(dom), before);
  // The definition takes it (the SATA controller is there or added, as libvirt's config attach does).
  await dom.attachDeviceFlags(c.device(`<disk type='file'><source file='/a'/><target dev='sdb' bus='sata'/></disk>`), DeviceModify.CONFIG);
  assert.match(await dom.getXMLDesc(DomainXML.INACTIVE), /<target dev='sdb' bus='sata'\/>/);
  await conn.close();
});

contractTest("an <interface> without type is type='user' (libvirt's parser default); <interface><mac/></interface> detaches by MAC", async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'typeless', devices: `<interface><mac address='52:54:00:00:00:77'/></interface>` })));
  assert.match(await dom.getXMLDesc(DomainXML.INACTIVE), /<interface type='user'>\s*<mac address='52:54:00:00:00:77'\/>/);
  await dom.create();
  await dom.attachDeviceFlags(c.device(`<interface><mac address='52:54:00:00:00:78'/><model type='virtio'/></interface>`), DeviceModify.LIVE | DeviceModify.CONFIG);
  assert.match(await dom.getXMLDesc(), /<interface type='user'>\s*<mac address='52:54:00:00:00:78'\/>/);
  // A detach XML without type states no type: the MAC alone identifies the NIC, whatever its type.
  const bridged = await conn.defineXML(c.domain(domainXml({ name: 'bridged', devices: NIC() })));
  await bridged.create();
  for (const [d, mac] of [[dom, '52:54:00:00:00:77'], [dom, '52:54:00:00:00:78'], [bridged, '52:54:00:aa:00:01']] as const) {
    assert.equal((await d.detachDeviceFlags(c.device(`<interface><mac address='${mac}'/></interface>`), DeviceModify.LIVE)).outcome, 'removed');
    assert.ok(!(await d.getXMLDesc()).includes(mac), `${mac} left the live XML`);
  }
  await conn.close();
});

contractTest('LIVE|CONFIG is all or nothing: a live failure leaves the config untouched', async (c) => {
  const conn = await c.open();
  const dom = await setup(c, conn, 'running', '');
  // Live has vdb (attached live only); config does not: the config half would succeed, the live half fails.
  await dom.attachDeviceFlags(c.device(NEW_DISK), DeviceModify.LIVE);
  const before = await snapshot(dom);
  await rejectsWith(dom.attachDeviceFlags(c.device(NEW_DISK), DeviceModify.LIVE | DeviceModify.CONFIG), ErrorCode.XML_ERROR, /target 'vdb' duplicated/);
  assert.deepEqual(await snapshot(dom), before);
  await conn.close();
});

contractTest('hot-plug works on a domain with a serial console (the console shares serial0 as in libvirt)', async (c) => {
  const conn = await c.open();
  const dom = await setup(c, conn, 'running', `<serial type='pty'/>`);
  const live = await dom.getXMLDesc();
  assert.equal(live.match(/<alias name='serial0'\/>/g)?.length, 2);
  await dom.attachDeviceFlags(c.device(NIC()), DeviceModify.LIVE);
  await dom.detachDeviceFlags(c.device(NIC()), DeviceModify.LIVE);
  await conn.close();
});

contractTest('interface types QEMU cannot hot-plug are refused live and accepted in the config', async (c) => {
  const conn = await c.open();
  const dom = await setup(c, conn, 'running', '');
  const mcast = `<interface type='mcast'><mac address='52:54:00:aa:00:07'/><source address='230.0.0.1' port='5558'/></interface>`;
  await rejectsWith(dom.attachDeviceFlags(mcast, DeviceModify.LIVE), ErrorCode.OPERATION_UNSUPPORTED, /live attach of interface type 'mcast' is not supported/);
  await dom.attachDeviceFlags(mcast, DeviceModify.CONFIG);
  assert.match(await dom.getXMLDesc(DomainXML.INACTIVE), /52:54:00:aa:00:07/);
  await conn.close();
});

contractTest('a driver without a display refuses <graphics> when the domain starts, clearly, and keeps the definition', async (c) => {
  const conn = await c.open();
  const dom = await setup(c, conn, 'shutoff', `<graphics type='vnc' port='5901' autoport='no' listen='127.0.0.1'/>`);
  const before = await dom.getXMLDesc(DomainXML.INACTIVE);
  await rejectsWith(dom.create(), ErrorCode.CONFIG_UNSUPPORTED, /graphics/);
  assert.equal(await dom.isActive(), false);
  assert.equal(await dom.getXMLDesc(DomainXML.INACTIVE), before);
  await conn.close();
}, lacking('graphics'));

contractTest('graphics update as qemuDomainChangeGraphics: a running display changes its password only; the definition takes the element', async (c) => {
  const conn = await c.open();
  const vnc = (extra: string) => `<graphics type='vnc' port='5901' autoport='no' listen='127.0.0.1'${extra}><listen type='address' address='127.0.0.1'/></graphics>`;
  const dom = await setup(c, conn, 'running', vnc(" passwd='one'"));
  const secure = async (flags = 0) => parsed(await dom.getXMLDesc(flags | DomainXML.SECURE)).child('devices')!.child('graphics')!;
  await dom.updateDeviceFlags(vnc(" passwd='two'"), DeviceModify.LIVE);
  assert.equal((await secure()).attr('passwd'), 'two');
  assert.equal((await secure(DomainXML.INACTIVE)).attr('passwd'), 'one', 'live only');
  const before = await snapshot(dom);
  await rejectsWith(dom.updateDeviceFlags(vnc('').replace("port='5901'", "port='5902'"), DeviceModify.LIVE), ErrorCode.OPERATION_UNSUPPORTED, /^Operation not supported: cannot change port settings on vnc graphics$/);
  await rejectsWith(dom.updateDeviceFlags(vnc('').replaceAll('127.0.0.1', '0.0.0.0'), DeviceModify.LIVE), ErrorCode.OPERATION_UNSUPPORTED, /^Operation not supported: cannot change listen address setting on 'vnc' graphics$/);
  await rejectsWith(dom.updateDeviceFlags(vnc(" keymap='de'"), DeviceModify.LIVE), ErrorCode.OPERATION_UNSUPPORTED, /cannot change keymap setting on vnc graphics/);
  await rejectsWith(dom.updateDeviceFlags(`<graphics type='spice'/>`, DeviceModify.LIVE), ErrorCode.DEVICE_MISSING, /cannot find existing graphics device to modify of type 'spice'/);
  await rejectsWith(dom.updateDeviceFlags(`<graphics type='spice'/>`, DeviceModify.CONFIG), ErrorCode.INVALID_ARG, /cannot find existing graphics type 'spice' device to modify/);
  assert.deepEqual(await snapshot(dom), before);
  // The definition takes the new element whole (the next start uses it).
  await dom.updateDeviceFlags(vnc('').replace("port='5901'", "port='5902'"), DeviceModify.CONFIG);
  assert.equal((await secure(DomainXML.INACTIVE)).attr('port'), '5902');
  assert.equal((await secure()).attr('port'), '5901');
  await conn.close();
}, requires('graphics'));
