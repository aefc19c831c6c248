/** Bad input always gets a typed error with libvirt's code, and never changes any definition. */
import assert from 'node:assert/strict';
import { DeviceModify, DomainDefine, DomainXML, ErrorCode } from '../../src/index.js';
import { domainXml, rejectsWith, stateOf } from '../core/helpers.js';
import { contractTest } from './harness.js';

const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<domain type='qemu'><name>&lol3;</name><memory>1024</memory></domain>`;

const xxe = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><domain type='qemu'><name>&x;</name><memory>1</memory></domain>`;

const cases: [string, string, number, RegExp][] = [
  ['malformed XML', `<domain type='qemu'>\n  <name>x</name>\n  <memory>1</memory>\n</domian>`, ErrorCode.XML_DETAIL, /line 4, column \d+/],
  ['billion laughs', billionLaughs, ErrorCode.XML_DETAIL, /DOCTYPE/],
  ['external entity (XXE)', xxe, ErrorCode.XML_DETAIL, /DOCTYPE/],
  ['undefined entity', `<domain type='qemu'><name>&evil;</name><memory>1</memory></domain>`, ErrorCode.XML_DETAIL, /entity/],
  ['name with /', domainXml({ name: 'a/b' }), ErrorCode.XML_ERROR, /cannot contain '\/'/],
  ['name with NUL', domainXml({ name: 'a\u0000b' }), ErrorCode.XML_DETAIL, /./],
  ['name with NUL reference', domainXml({ name: 'a&#0;b' }), ErrorCode.XML_DETAIL, /./],
  ['empty name', domainXml({ name: '' }), ErrorCode.XML_ERROR, /missing domain name/],
  ['bad MAC', domainXml({ name: 'm', devices: `<interface type='user'><mac address='52:54:00:zz:00:01'/></interface>` }), ErrorCode.XML_ERROR, /unable to parse mac address '52:54:00:zz:00:01'/],
  ['multicast MAC', domainXml({ name: 'm', devices: `<interface type='user'><mac address='01:00:5e:00:00:01'/></interface>` }), ErrorCode.XML_ERROR, /multicast/],
  ['unknown memory unit', domainXml({ name: 'u' }).replace("unit='MiB'", "unit='furlongs'"), ErrorCode.XML_ERROR, /unknown unit 'furlongs' in <memory>/],
  ['missing memory', `<domain type='qemu'><name>nomem</name></domain>`, ErrorCode.XML_ERROR, /Memory size must be specified/],
  ['disk without target', domainXml({ name: 'd', devices: `<disk type='file'><source file='/x.img'/></disk>` }), ErrorCode.NO_TARGET, /^missing target information for device \/x.img$/],
  ['duplicate disk target', domainXml({ name: 'd', devices: `<disk type='file'><source file='/y.img'/><target dev='vda'/></disk>` }), ErrorCode.XML_ERROR, /target 'vda' duplicated/],
  ['PCI address clash', domainXml({ name: 'p', devices: `<interface type='user'><address type='pci' domain='0' bus='0' slot='5' function='0'/></interface><interface type='user'><address type='pci' domain='0' bus='0' slot='5' function='0'/></interface>` }), ErrorCode.XML_ERROR, /double use of PCI Address 0000:00:05.0/],
  ['unknown device element', domainXml({ name: 'g', devices: '<gizmo/>' }), ErrorCode.CONFIG_UNSUPPORTED, /unknown device type 'gizmo'/],
  ['unknown domain type', domainXml({ name: 't', type: 'warp' }), ErrorCode.XML_ERROR, /invalid domain type 'warp'/],
  ['wrong root element', `<network><name>n</name></network>`, ErrorCode.XML_ERROR, /unexpected root element <network>/],
  ['bad uuid', domainXml({ name: 'uu' }).replace('<name>uu</name>', '<name>uu</name><uuid>not-a-uuid</uuid>'), ErrorCode.XML_ERROR, /malformed uuid/],
  ['bad vcpu', domainXml({ name: 'vc' }).replace('<memory', '<vcpu>zero</vcpu><memory'), ErrorCode.XML_ERROR, /vcpu/],
];

for (const [label, xml, code, re] of cases) {
  contractTest(`define refuses ${label} with code ${code}, state unchanged`, async (c) => {
    const conn = await c.open();
    const before = await stateOf(conn);
    await rejectsWith(conn.defineXML(xml), code, re);
    await rejectsWith(conn.createXML(xml), code);
    assert.deepEqual(await stateOf(conn), before);
    await conn.close();
  });
}

contractTest('100 MB of XML is refused up front', async (c) => {
  const conn = await c.open();
  const before = await stateOf(conn);
  const huge = `<domain type='qemu'><name>big</name><memory>1</memory><description>${'x'.repeat(100 * 1024 * 1024)}</description></domain>`;
  await rejectsWith(conn.defineXML(huge), ErrorCode.XML_ERROR, /too large/);
  assert.deepEqual(await stateOf(conn), before);
  await conn.close();
});

contractTest('duplicate name with another uuid, or uuid under another name, is refused', async (c) => {
  const conn = await c.open();
  const a = await conn.defineXML(domainXml({ name: 'dup' }));
  const before = await stateOf(conn);
  await rejectsWith(
    conn.defineXML(domainXml({ name: 'dup' }).replace('<name>dup</name>', '<name>dup</name><uuid>11111111-2222-3333-4444-555555555555</uuid>')),
    ErrorCode.OPERATION_FAILED,
    /domain 'dup' already exists with uuid/,
  );
  await rejectsWith(
    conn.defineXML(domainXml({ name: 'other' }).replace('<name>other</name>', `<name>other</name><uuid>${a.uuid}</uuid>`)),
    ErrorCode.OPERATION_FAILED,
    /is already defined with uuid/,
  );
  const running = await conn.defineXML(c.domain(domainXml({ name: 'running' })));
  await running.create();
  const withRunning = await stateOf(conn);
  await rejectsWith(conn.createXML(c.domain(domainXml({ name: 'running' }))), ErrorCode.OPERATION_INVALID, /already active/);
  assert.deepEqual(await stateOf(conn), withRunning);
  await running.destroy();
  await running.undefine();
  assert.deepEqual(await stateOf(conn), before);
  await conn.close();
});

contractTest('bad flags on lifecycle and dump calls are INVALID_ARG', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'flags' })));
  await rejectsWith(conn.defineXMLFlags(domainXml({ name: 'f2' }), 2), ErrorCode.INVALID_ARG, /virDomainDefineXMLFlags/);
  await rejectsWith(dom.getXMLDesc(64), ErrorCode.INVALID_ARG);
  await rejectsWith(dom.createWithFlags(1 << 10), ErrorCode.INVALID_ARG);
  await rejectsWith(dom.undefineFlags(1 << 12), ErrorCode.INVALID_ARG);
  assert.equal(await dom.isActive(), false);
  await conn.close();
});

contractTest('malformed and hostile device XML on attach/detach: typed error, nothing changed', async (c) => {
  const conn = await c.open();
  const dom = await conn.defineXML(c.domain(domainXml({ name: 'devbad' })));
  await dom.create();
  const before = await stateOf(conn);
  await rejectsWith(dom.attachDevice(`<interface type='user'>`), ErrorCode.XML_DETAIL, /line 1/);
  await rejectsWith(dom.attachDevice(billionLaughs.replace(/<domain[\s\S]*/, "<disk type='file'><target dev='&lol3;'/></disk>")), ErrorCode.XML_DETAIL);
  await rejectsWith(dom.attachDeviceFlags(`<interface type='user'><mac address='ff:ff:ff:ff:ff:ff'/></interface>`, DeviceModify.LIVE), ErrorCode.XML_ERROR, /multicast/);
  await rejectsWith(dom.detachDevice(`<interface type='user'><mac address='nonsense'/></interface>`), ErrorCode.XML_ERROR);
  await rejectsWith(dom.attachDevice(`<disk type='file'><source file='/q'/></disk>`), ErrorCode.NO_TARGET, /missing target/);
  await rejectsWith(dom.attachDevice(`<interface type='warp'/>`), ErrorCode.XML_ERROR, /unknown interface type 'warp'/);
  assert.deepEqual(await stateOf(conn), before);
  await conn.close();
});

contractTest('VALIDATE checks libvirt RelaxNG: unknown content is refused with code 92; without it, kept verbatim', async (c) => {
  const conn = await c.open();
  const odd = domainXml({ name: 'odd', devices: `<disk type='file'><source file='/o'/><target dev='vdb' futuristic='yes'/></disk>` });
  await rejectsWith(conn.defineXMLFlags(odd, DomainDefine.VALIDATE), ErrorCode.XML_INVALID_SCHEMA, /failed to validate against schema/);
  await rejectsWith(conn.lookupByName('odd'), ErrorCode.NO_DOMAIN);
  const dom = await conn.defineXMLFlags(odd, 0);
  assert.match(await dom.getXMLDesc(DomainXML.INACTIVE), /<target dev='vdb' futuristic='yes' bus='virtio'\/>/);
  const valid = await conn.defineXMLFlags(domainXml({ name: 'valid' }), DomainDefine.VALIDATE);
  assert.equal(valid.name, 'valid');
  await conn.close();
});
