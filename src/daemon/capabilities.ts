/**
 * virConnectGetCapabilities for drivers that do not describe themselves: the host (architecture,
 * CPUs, memory, host UUID from the machine id) and one hvm guest type per domain type the driver
 * accepts. A driver with its own `getCapabilities()` (e.g. from a probed QEMU) is asked instead.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Driver } from '../drivers/driver.js';

const archOf: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x' };

function hostUuid(): string | undefined {
  try {
    const id = readFileSync('/etc/machine-id', 'utf8').trim();
    if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
    return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
  } catch {
    return undefined;
  }
}

/** Domain types each driver family accepts in `<domain type=...>`. */
function domainTypes(driver: Driver): string[] {
  if (driver.type.toLowerCase() === 'test') return ['test', 'qemu', 'kvm'];
  return ['qemu'];
}

export async function capabilitiesXml(driver: Driver): Promise<string> {
  const own = (driver as { getCapabilities?: () => Promise<string> }).getCapabilities;
  if (typeof own === 'function') return own.call(driver);
  const arch = archOf[os.arch()] ?? os.arch();
  const cpus = os.cpus().length;
  const uuid = hostUuid();
  const lines = [
    '<capabilities>',
    '',
    '  <host>',
    ...(uuid ? [`    <uuid>${uuid}</uuid>`] : []),
    '    <cpu>',
    `      <arch>${arch}</arch>`,
    '    </cpu>',
    '    <power_management/>',
    "    <iommu support='no'/>",
    '    <topology>',
    "      <cells num='1'>",
    "        <cell id='0'>",
    `          <memory unit='KiB'>${Math.floor(os.totalmem() / 1024)}</memory>`,
    `          <cpus num='${cpus}'>`,
    ...Array.from({ length: cpus }, (_, i) => `            <cpu id='${i}' socket_id='0' die_id='0' core_id='${i}' siblings='${i}'/>`),
    '          </cpus>',
    '        </cell>',
    '      </cells>',
    '    </topology>',
    '  </host>',
    '',
    '  <guest>',
    '    <os_type>hvm</os_type>',
    `    <arch name='${arch}'>`,
    `      <wordsize>${arch.endsWith('64') || arch === 's390x' ? 64 : 32}</wordsize>`,
    ...domainTypes(driver).map((t) => `      <domain type='${t}'/>`),
    '    </arch>',
    '  </guest>',
    '',
    '</capabilities>',
    '',
  ];
  return lines.join('\n');
}
