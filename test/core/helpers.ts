/** Shared fixtures for core tests: domain XML builders and small XML helpers. */
import assert from 'node:assert/strict';
import { Connection, DomainXML, isVirtError, xml } from '../../src/index.js';

export function domainXml(opts: { name: string; type?: string; devices?: string; metadata?: string; machine?: string }): string {
  const type = opts.type ?? 'qemu';
  const disk = type === 'xen' ? 'xvda' : 'vda';
  return `<domain type='${type}'>
  <name>${opts.name}</name>
  <memory unit='MiB'>128</memory>
  ${opts.metadata ? `<metadata>${opts.metadata}</metadata>` : ''}
  <os><type${opts.machine ? ` machine='${opts.machine}'` : ''}>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <disk type='file' device='disk'><source file='/var/lib/virtkit/${opts.name}.img'/><target dev='${disk}'/></disk>
    ${opts.devices ?? ''}
  </devices>
</domain>`;
}

export const bridgeNic = `<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>`;

/** All elements named `name` inside `<devices>` of a domain XML, serialized. */
export function devicesOf(domainXmlText: string, name: string): string[] {
  const root = xml.parseXml(domainXmlText);
  return (root.child('devices')?.elements(name) ?? []).map((e) => xml.serializeXml(e));
}

export function parsed(text: string): xml.XmlElement {
  return xml.parseXml(text);
}

/** Asserts that `p` rejects with a VirtError of `code` whose message matches `re`. */
export async function rejectsWith(p: Promise<unknown>, code: number, re?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isVirtError(err), `expected VirtError, got ${String(err)}`);
    assert.equal(err.code, code, `code ${err.code} (${err.message})`);
    if (re) assert.match(err.message, re);
    return true;
  });
}

export async function freshConnection(query = ''): Promise<Connection> {
  return Connection.open(`test:///default${query}`);
}

/** Everything observable about a connection's domains (live and inactive XML, sorted): equal before and after a failed call. */
export async function stateOf(conn: Connection): Promise<string[]> {
  const out: string[] = [];
  for (const d of await conn.listAllDomains()) {
    out.push(await d.getXMLDesc());
    if (await d.isPersistent()) out.push(await d.getXMLDesc(DomainXML.INACTIVE));
  }
  return out.sort();
}
