/**
 * `virtkit --demo` (`npm start`): a short hot-plug session on test:///default,
 * every step a real CLI command echoed as `virtkit # …` before its output.
 */
import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseXml, serializeXml, type XmlElement } from '../xml/index.js';
import { runCommandString } from './run.js';
import type { Session } from './session.js';

/** A small qemu guest: ACPI on (PCI hot-unplug needs it), one virtio disk, no NICs. */
const DOMAIN_XML = `<domain type='qemu'>
  <name>demo</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
  </os>
  <features>
    <acpi/>
  </features>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/demo.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
`;

/** The live XML's `<devices>` element and its first `<interface>`, for showing and cutting. */
async function liveDevices(session: Session): Promise<{ devices: XmlElement; nic: XmlElement | undefined }> {
  const dom = await session.domain('demo');
  const devices = parseXml(await dom.getXMLDesc(0)).child('devices');
  if (!devices) throw new Error('live XML has no <devices>');
  return { devices, nic: devices.child('interface') };
}

/** Runs the demo; stops at the first failing step. */
export async function runDemo(session: Session): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'virtkit-demo-'));
  // On exit rather than in `finally`: a closed pipe (`npm start | head`) ends the process early.
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanup);
  const domainFile = join(dir, 'demo.xml');
  const nicFile = join(dir, 'nic-live.xml');
  const say = (text: string): void => session.out(text);
  const step = async (command: string): Promise<boolean> => {
    say(`virtkit # ${command}\n`);
    return runCommandString(session, command);
  };
  try {
    await writeFile(domainFile, DOMAIN_XML);
    say(`# virtkit demo on ${session.options.uri}: hot-plug a NIC and a disk, then unplug the NIC by its live XML.\n\n`);
    for (const command of [
      `define ${domainFile}`,
      'start demo',
      'attach-interface demo network default --model virtio --live',
      'attach-disk demo /var/lib/libvirt/images/data.qcow2 vdb --subdriver qcow2 --targetbus virtio --live',
      'domiflist demo',
      'domblklist demo',
    ]) {
      if (!(await step(command))) return false;
    }

    // virsh users cut device XML out of dumpxml with sed; show the same, done through the library's XML tree.
    const { devices, nic } = await liveDevices(session);
    say(`virtkit # dumpxml demo | sed -n '/<devices>/,/<\\/devices>/p'\n`);
    say(serializeXml(devices, '  ') + '\n');
    if (!nic) throw new Error('the attached interface is missing from the live XML');
    const nicXml = serializeXml(nic);
    await writeFile(nicFile, nicXml);
    say(`virtkit # dumpxml demo | sed -n '/<interface/,/<\\/interface>/p' > ${nicFile}\n`);
    say(nicXml + '\n');

    for (const command of [`detach-device demo ${nicFile} --live`, 'domiflist demo', 'dominfo demo']) {
      if (!(await step(command))) return false;
    }
    return true;
  } finally {
    process.off('exit', cleanup);
    cleanup();
  }
}
