/**
 * virtkit against the real virsh: every argument list below runs through
 * `virsh -c test:///default …` (libvirt-clients 9.0) and through `virtkit -c test:///default …`,
 * and stdout, stderr and the exit status must be equal. These are the cases where both test
 * drivers hold the same data: fixture domains with fixed UUIDs defined in the same command
 * string, option parsing, messages, exit statuses, device XML builders.
 *
 * The one normalisation: virtkit's `hint: …` lines after a usage error are dropped (virsh has
 * none; they are a virtkit addition). Cases that differ on purpose are listed in DIFFERENT with
 * the reason; the test checks they still differ, so a fixed difference cannot linger in the list.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAIN, URI_VARIABLES } from './helpers.js';

const VIRSH = 'virsh';
const hasVirsh = spawnSync(VIRSH, ['--version']).status === 0;
if (!hasVirsh && process.env['CI']) throw new Error('virsh is missing: scripts/test.sh installs libvirt-clients');

interface Case {
  /** Words after `-c test:///default` (or the whole argv with `raw`). */
  argv: string[];
  /** argv is complete: no `-c test:///default` in front. */
  raw?: boolean;
  env?: Record<string, string>;
  stdin?: string;
}
interface Different extends Case {
  reason: string;
}
interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

let dir: string;
/** Fixture paths, filled in `before` (cases name them as {vm}, {titled}, {nic}, ...). */
const files: Record<string, string> = {};

const FIXTURES: Record<string, string> = {
  vm: `<domain type='test'>
  <name>vm1</name>
  <uuid>11111111-2222-3333-4444-555555555555</uuid>
  <memory unit='MiB'>512</memory>
  <currentMemory unit='MiB'>256</currentMemory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='/images/vm1.img'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><source file='/iso/install.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:00:00:01'/><source network='default'/><model type='virtio'/></interface>
  </devices>
</domain>
`,
  titled: `<domain type='test'>
  <name>titled</name>
  <uuid>11111111-2222-3333-4444-666666666666</uuid>
  <title>A domain with a title</title>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64'>hvm</type></os>
</domain>
`,
  nic: `<interface type='network'>
  <mac address='52:54:00:00:00:99'/>
  <source network='default'/>
</interface>
`,
  bad: `<domain type='test'>
  <name>bad`,
};

/** Replaces {name} by the fixture's path. */
function expand(words: string[]): string[] {
  return words.map((w) => w.replace(/\{(\w+)\}/g, (_m, k: string) => files[k] ?? `{${k}}`));
}

function run(cmd: string, args: string[], c: Case): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...c.env };
  for (const v of URI_VARIABLES) if (!c.env?.[v]) delete env[v];
  return new Promise((resolve, reject) => {
    // No stdin unless the case has some: a command string never reads it (and a pipe could break under a quick exit).
    const child = spawn(cmd, args, { env, cwd: dir, stdio: [c.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(c.stdin);
    }
  });
}

async function both(c: Case): Promise<{ virsh: Result; virtkit: Result }> {
  const argv = expand(c.raw ? c.argv : ['-c', 'test:///default', ...c.argv]);
  const [virsh, virtkit] = await Promise.all([run(VIRSH, argv, c), run(process.execPath, [MAIN, ...argv], c)]);
  virtkit.stderr = virtkit.stderr
    .split('\n')
    .filter((l) => !l.startsWith('hint: '))
    .join('\n');
  return { virsh, virtkit };
}

const s = (text: string): string[] => [text];

/** Same data in both drivers: the outputs must be byte for byte equal. */
const SAME: Case[] = [
  // Connection URIs and global options
  { argv: s('uri') },
  { argv: ['--connect', 'test:///default', 'uri'], raw: true },
  { argv: ['--conn=test:///default', 'uri'], raw: true },
  { argv: ['-ctest:///default', 'uri'], raw: true },
  { argv: ['uri'], raw: true, env: { LIBVIRT_DEFAULT_URI: 'test:///default' } },
  { argv: ['uri'], raw: true, env: { VIRSH_DEFAULT_CONNECT_URI: 'test:///default', LIBVIRT_DEFAULT_URI: 'bogus' } },
  { argv: ['echo hi; echo there'], raw: true, env: { VIRSH_DEFAULT_CONNECT_URI: 'bogus' } },
  { argv: ['--nosuch', 'uri'], raw: true },
  { argv: ['-x', 'uri'], raw: true },
  { argv: ['-c'], raw: true },
  { argv: ['-c', 'test:///default', '-d', 'x', 'uri'], raw: true },
  { argv: ['-q', '-c', 'test:///default', 'list --all; domid test'], raw: true },
  { argv: ['-c', 'test:///default', '-q', 'echo a; dominfo nosuch; echo b'], raw: true },
  // Command strings, parse errors and exit statuses
  { argv: s('dominfo nosuch; domid test') },
  { argv: s('domid test; dominfo nosuch') },
  { argv: s('domid test; list --bogus; domid test') },
  { argv: s('domid test; bogus; domid test') },
  { argv: s('domid test; domid test extra; domid test') },
  { argv: s('domid test; dominfo; domid test') },
  { argv: s('domid test; dominfo --domain; domid test') },
  { argv: s('domid test; list --all --all') },
  { argv: s('domid test; list --all=x') },
  { argv: s('domid test; attach-device test /x.xml --current --config; domid test') },
  { argv: s('domid test; dominfo ""; domid test') },
  { argv: s('domid test; list --all --uuid --table; domid test') },
  { argv: s('domid test; event --all --timeout abc; domid test') },
  { argv: s('domid test; event --timeout abc') },
  { argv: s('dominfo nosuch; quit') },
  { argv: s('quit; dominfo nosuch') },
  { argv: s(' ; ') },
  { argv: s('#comment') },
  { argv: s('echo "abc') },
  { argv: ['domid', 'test'] },
  { argv: ['dominfo nosuch', 'x'] },
  // Help
  { argv: s('domstate --help') },
  { argv: s('domstate --help foo') },
  { argv: s('dominfo test --help foo') },
  { argv: s('dominfo --nosuch --help') },
  { argv: s('dominfo --help=x') },
  { argv: s('domid test; domstate --help; domid test') },
  { argv: s('help nosuch') },
  { argv: s('help --command domstate') },
  { argv: s('help -- domstate') },
  ...[
    'attach-device', 'attach-disk', 'attach-interface', 'change-media', 'domid', 'domname', 'domuuid', 'domstate',
    'dumpxml', 'edit', 'event', 'resume', 'shutdown', 'suspend', 'update-device', 'uri', 'hostname', 'cd', 'pwd', 'quit', 'exit',
    'reboot', 'autostart', 'setmem', 'setmaxmem', 'setvcpus', 'console', 'domifaddr', 'domblkinfo', 'nodeinfo', 'capabilities',
    'domcapabilities', 'net-list', 'pool-list', 'vol-list',
  ].map((c) => ({ argv: s(`help ${c}`) })),
  // Built-ins
  { argv: ['echo', '--shell', 'a b', "it's", 'plain', '', 'x$y', 'a,b', '~x', 'a=b', '-x', '%@:+'] },
  { argv: ['echo', '--xml', '<a&b>', `'q"`] },
  { argv: ['echo', '--split', 'a,b,,c', 'd'] },
  { argv: ['echo', '--err', 'hello', 'world'] },
  { argv: s('echo a; echo --err b; echo c') },
  { argv: s('echo --shell x --xml') },
  { argv: s('echo; echo') },
  { argv: ['echo', '--split', 'a,b', 'c,d'] },
  { argv: ['echo', '--split', ''] },
  { argv: ['echo', '', ''] },
  { argv: s('echo --xml --split "a,<b"') },
  { argv: ['-q', '-c', 'test:///default', 'echo a; echo; echo b'], raw: true },
  { argv: s('pwd') },
  { argv: s('cd /tmp') },
  { argv: s('connect; uri') },
  { argv: s('connect test:///default; uri') },
  { argv: s('hostname') },
  // Domain lookups
  { argv: s('domid 1') },
  { argv: s('domid test') },
  { argv: s('domname test') },
  { argv: s('domname 1') },
  { argv: s('domuuid 1') },
  { argv: s('domuuid test') },
  { argv: s('domname 6695eb01-f6a4-8304-79aa-97f2502e193f') },
  { argv: s('domid 6695eb01-f6a4-8304-79aa-97f2502e193f') },
  { argv: s('domuuid 6695eb01-f6a4-8304-79aa-97f2502e193f') },
  { argv: s('domid nosuch') },
  { argv: s('dominfo nosuch') },
  // Listing and lifecycle on fixture domains
  { argv: s('list') },
  { argv: s('list --all') },
  { argv: s('define {vm}; define {titled}; list --all; list --inactive; list --name --all; list --uuid --all; list --id --all') },
  { argv: s('define {vm}; define {titled}; list --all --title; list --all --name --title; list --all --uuid --id --name') },
  { argv: s('define {vm}; list --persistent --all; list --transient --all; list --state-shutoff --all; list --state-running') },
  { argv: s('define {vm}; list --all --managed-save; list --all --with-managed-save; list --all --without-managed-save') },
  { argv: s('define {vm}; list --all --with-snapshot; list --all --without-snapshot --without-checkpoint') },
  { argv: s('define {vm}; list --all --no-autostart; list --all --autostart') },
  { argv: s('define {vm}; start vm1; domstate vm1 --reason; domid vm1; suspend vm1; domstate vm1 --reason; resume vm1; domstate vm1 --reason') },
  { argv: s('define {vm}; start vm1; destroy vm1; domstate vm1 --reason; domid vm1; undefine vm1; list --all') },
  { argv: s('define {vm}; start vm1; start vm1') },
  { argv: s('define {vm}; undefine vm1; undefine vm1') },
  { argv: s('define {vm}; domblklist vm1; domblklist vm1 --details; domblklist vm1 --inactive') },
  { argv: s('define {vm}; domuuid vm1; domname 11111111-2222-3333-4444-555555555555') },
  { argv: s('define {vm}; dumpxml vm1 --xpath //name; dumpxml vm1 --xpath //uuid/text(); dumpxml vm1 --xpath //disk/source/@file --wrap') },
  { argv: s('define {vm}; dumpxml vm1 --xpath "count(//disk)"; dumpxml vm1 --xpath //nosuch; dumpxml vm1 --xpath //nosuch --wrap') },
  { argv: s('define /nonexistent.xml') },
  { argv: s('start nosuch; destroy nosuch; suspend nosuch; resume nosuch; undefine nosuch') },
  // Domain settings
  { argv: s('reboot test; domstate test --reason') },
  { argv: s('reboot test --mode acpi; reboot test --mode bogus; reboot nosuch; define {vm}; reboot vm1') },
  { argv: s('autostart test; list --all --autostart; autostart test --disable; list --all --autostart; autostart nosuch') },
  { argv: s('define {vm}; autostart vm1; list --all --autostart; list --all --no-autostart; autostart vm1 --disable; list --all --autostart') },
  { argv: s('setmem test 1G; dumpxml test --xpath //currentMemory; setmem test 1G --config; dumpxml test --inactive --xpath //currentMemory') },
  { argv: s('setmem test 100G') },
  { argv: s('setmem test 1X; setmem test -5; setmem test 0; setmem test 1.5G; setmem test 1e3') },
  { argv: s('setmem test 1GB; dumpxml test --xpath //currentMemory; setmem test 512m; dumpxml test --xpath //currentMemory; setmem test 1048576b; dumpxml test --xpath //currentMemory') },
  { argv: s('setmem test 100 --current; dumpxml test --xpath //currentMemory; setmem test 100 --current --live') },
  { argv: s('setmaxmem test 4G; setmaxmem test 4G --config; dumpxml test --inactive --xpath //memory; setmaxmem test 1M --config; dumpxml test --inactive --xpath //currentMemory') },
  { argv: s('define {vm}; setmem vm1 128M; setmem vm1 128M --live; setmaxmem vm1 1G; dumpxml vm1 --xpath //memory; setvcpus vm1 1; setvcpus vm1 3') },
  { argv: s('define {vm}; setvcpus vm1 4 --maximum --config; dumpxml vm1 --xpath //vcpu; setvcpus vm1 3 --config; dumpxml vm1 --xpath //vcpu') },
  { argv: s('define {vm}; setvcpus vm1 1 --config; setvcpus vm1 3 --config; setvcpus vm1 0 --config; setvcpus vm1 2 --maximum; setvcpus vm1 2 --maximum --live') },
  { argv: s('setvcpus test 1; domstate test; setvcpus test 3; setvcpus test 0; setvcpus test -1; setvcpus test 4294967296') },
  // Guest and host information
  { argv: s('domifaddr test') },
  { argv: s('domifaddr test --full; domifaddr test --source lease; domifaddr test --source agent; domifaddr test --source arp') },
  { argv: s('domifaddr test --interface testnet0; domifaddr test --interface nosuch; domifaddr test --source bogus; domifaddr nosuch') },
  { argv: s('define {vm}; domifaddr vm1') },
  { argv: s('domblkinfo test vda; domblkinfo test --all; domblkinfo test vda --human; domblkinfo test vdz; domblkinfo test /guest/diskimage1') },
  { argv: s('domblkinfo test; domblkinfo test --all --human; domblkinfo test vda --all') },
  { argv: s('define {vm}; domblkinfo vm1 --all; domblkinfo vm1 hdc; domblkinfo vm1 /images/vm1.img --human') },
  { argv: s('nodeinfo') },
  { argv: s('console test') },
  { argv: s('define {vm}; console vm1; console nosuch') },
  { argv: s('domcapabilities') },
  { argv: s('net-list; net-list --all; net-list --table; net-list --name --all; net-list --uuid; net-list --name --uuid') },
  { argv: s('net-list --inactive; net-list --transient; net-list --persistent --autostart; net-list --no-autostart; net-list --table --name') },
  { argv: s('pool-list; pool-list --all --details; pool-list --name --all; pool-list --uuid; pool-list --name --uuid; pool-list --details --name') },
  { argv: s('pool-list --type dir; pool-list --type logical; pool-list --type dir,fs; pool-list --type bogus; pool-list --inactive') },
  { argv: s('vol-list default-pool; vol-list default-pool --details; vol-list dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566; vol-list nosuch') },
  { argv: s('hostname; uri') },
  // Events
  { argv: s('event --list') },
  { argv: s('event --all --timeout 1') },
  { argv: s('event --event nosuch') },
  { argv: s('event --all --timeout 0') },
  { argv: s('event --all --event lifecycle') },
  { argv: s('event nosuch --all --timeout 1') },
  // Device XML builders (--print-xml: no hot-plug involved)
  { argv: s('attach-interface test network') },
  { argv: s('attach-interface test user --print-xml') },
  { argv: s('attach-interface test network default --print-xml --managed') },
  { argv: s('attach-interface nosuch network default --print-xml') },
  { argv: s('attach-interface test hostdev 0000:00:01.0 --print-xml --managed') },
  { argv: s('attach-interface test bogus x --print-xml') },
  { argv: s('attach-interface test ethernet x --print-xml') },
  { argv: s('attach-interface test direct eth0 --print-xml --source-mode vepa') },
  { argv: s('attach-interface test direct eth0 --print-xml --source-mode server') },
  { argv: s('attach-interface test vhostuser /tmp/sock --print-xml --source-mode server') },
  { argv: s('attach-interface test vhostuser /s --print-xml') },
  { argv: s('attach-interface test vhostuser /s --print-xml --source-mode bogus') },
  {
    argv: s(
      'attach-interface test network default --print-xml --target vnet5 --mac 52:54:00:AB:cd:01 --script /s --model virtio --alias ua-x --inbound 100,200,300,400 --outbound 10,20,30 --managed',
    ),
  },
  { argv: s('attach-interface test bridge br0 --print-xml --managed --source-mode client') },
  { argv: s('attach-interface test network default vnet7 --print-xml') },
  { argv: s('attach-interface test hostdev 01:02.3 --print-xml') },
  { argv: s('attach-interface test hostdev 0x0000:0x00:0x01.0x1 --print-xml') },
  { argv: s('attach-interface test hostdev 10000:100:20.8 --print-xml') },
  { argv: s('attach-interface test network default --print-xml --mac bogus') },
  ...['0', ',5', 'x', '1,x', '1,2,x', '1,2,3,x', '1,2,3,4,5', '0,0,0,5', '-1', '1,2,3,0', '0x10', '18446744073709551616', ' 5', '""'].map(
    (rate) => ({ argv: s(`attach-interface test network default --print-xml --inbound ${rate.includes(' ') ? `'${rate}'` : rate}`) }),
  ),
  ...['0', '1,2,3,4', '5,,'].map((rate) => ({ argv: s(`attach-interface test network default --print-xml --outbound ${rate}`) })),
  { argv: s('attach-disk test pool/img vdb --source-protocol rbd --source-host-name mon1:6789 --print-xml') },
  { argv: s('attach-disk test pool/img vdb --source-protocol rbd --print-xml') },
  { argv: s('attach-disk test pool/img vdb --sourcetype network --source-protocol rbd --source-host-name mon1 --print-xml') },
  { argv: s('attach-disk test pool/img vdb --source-host-name mon1 --print-xml') },
  { argv: s('attach-disk test img vdb --source-host-transport unix --print-xml') },
  { argv: s('attach-disk test pool/img vdb --source-protocol nbd --source-host-socket /s --source-host-transport unix --print-xml') },
  { argv: s('attach-disk test img vdb --source-protocol nbd --source-host-transport tcp --source-host-name h --print-xml') },
  { argv: s('attach-disk test img vdb --source-protocol nbd --source-host-name host: --print-xml') },
  { argv: s('attach-disk test pool/img vdb --sourcetype network --print-xml') },
  { argv: s('attach-disk test /a.img vdb --print-xml --source-protocol rbd --sourcetype file') },
  { argv: s('attach-disk test /x vdb --sourcetype block --source-protocol nbd --print-xml') },
  { argv: s('attach-disk test /a.img vdb --print-xml --source-protocol bogus') },
  {
    argv: s(
      'attach-disk test /a vdb --print-xml --targetbus virtio --driver qemu --subdriver qcow2 --iothread 2 --cache none --io native --type disk --mode readonly --serial S1 --wwn 5000c50015ea71ac --alias ua-d --rawio --address pci:0000.00.0a.0 --multifunction',
    ),
  },
  { argv: s('attach-disk test "" hdc --print-xml --type cdrom') },
  { argv: s('attach-disk test /a hdc --print-xml --type floppy') },
  { argv: s('attach-disk test /a vdb --print-xml --type bogus') },
  { argv: s('attach-disk test /a vdb --print-xml --mode bogus') },
  { argv: s('attach-disk test /a vdb --print-xml --sourcetype bogus') },
  { argv: s('attach-disk test /a vdb --mode bogus --sourcetype bogus --print-xml') },
  { argv: s('attach-disk test /dev/null vdb --print-xml') },
  { argv: s('attach-disk nosuch /a vdb --print-xml') },
  { argv: s('attach-disk test /a vdb virtio --print-xml') },
  ...['scsi:0.0.1', 'ide:0.0.1', 'pci:0.0.1.0', 'ccw:0.0.1', 'usb:1.2', 'sata:0.0.1', 'bogus', 'pci:0.0.x.0'].flatMap((a) =>
    ['vdb', 'hdb', 'xvdb', 'sdb'].map((t) => ({ argv: s(`attach-disk test /a ${t} --print-xml --address ${a}`) })),
  ),
  // Device lookups that fail before any hot-plug
  { argv: s('detach-interface test bridge') },
  { argv: s('detach-interface test network --mac 52:54:00:00:00:09') },
  { argv: s('detach-disk test vdz') },
  { argv: s('detach-disk nosuch vda --print-xml') },
  { argv: s('attach-device test /nonexistent.xml') },
  { argv: s('attach-device nosuch {nic}') },
  { argv: s('change-media test hda /x.iso --print-xml') },
  { argv: s('define {vm}; change-media vm1 hdc --eject --insert') },
  { argv: s('define {vm}; change-media vm1 vda --eject') },
];

/** Cases that differ on purpose, and why. */
const DIFFERENT: Different[] = [
  {
    argv: s('dominfo test'),
    reason:
      "libvirt's test driver answers 'linux' as OS type, a wall-clock CPU time and a security model; virtkit's gives the XML's os type (hvm, as the QEMU driver), its own CPU time and has no security driver",
  },
  {
    argv: s('dumpxml test'),
    reason: "virtkit's test driver follows libvirt's QEMU driver: live aliases and QEMU's PCI slots instead of the test driver's",
  },
  {
    argv: s('define {vm}; dumpxml vm1 --inactive'),
    reason: "libvirt's test driver adds <clock>, IDE controllers/addresses and a testnet0 target to the config; virtkit's adds QEMU's defaults",
  },
  {
    argv: s('define {vm}; start vm1; domiflist vm1'),
    reason: "host-side NIC names: libvirt's test driver names every NIC testnet0, virtkit allocates vnetN as the QEMU driver",
  },
  { argv: s('attach-interface test network default'), reason: "libvirt's test driver has no hot-plug ('this function is not supported')" },
  { argv: s('attach-disk test /a.img vdb'), reason: "libvirt's test driver has no hot-plug" },
  { argv: s('detach-disk test vda'), reason: "libvirt's test driver has no hot-plug" },
  { argv: s('attach-device test {nic}'), reason: "libvirt's test driver has no hot-plug" },
  { argv: s('capabilities'), reason: "virtkit's test host declares no security model (libvirt's test driver lists 'testSecurity')" },
  {
    argv: s('define {vm}; start vm1; domifaddr vm1'),
    reason: "interface names: virtkit's live tap names (vnetN) where libvirt's test driver says testnetN; the addresses are the same",
  },
  { argv: s('create {vm}; autostart vm1'), reason: 'a transient domain cannot autostart in virtkit (as in the QEMU driver); libvirt\'s test driver marks it' },
  { argv: s('setvcpus test 1 --guest'), reason: "libvirt names its test driver's function in 'unsupported flags' (testDomainSetVcpusFlags), virtkit the API" },
  { argv: s('version'), reason: "virtkit names itself as the library and reports its test driver as 'Test' 2.0.0" },
  { argv: ['-c', 'bogus', 'uri'], raw: true, reason: "the driver's reason after 'failed to connect to the hypervisor' is virtkit's wording" },
  { argv: ['echo hi; uri'], raw: true, env: { LIBVIRT_DEFAULT_URI: 'bogus' }, reason: "the driver's reason for a bad URI is virtkit's wording" },
  { argv: s('dumpxml test --xpath //['), reason: 'virsh returns 0 for an invalid XPath expression (after libxml2 reports it); virtkit fails the command' },
  {
    argv: [],
    raw: true,
    stdin: 'domid test\ndominfo nosuch\n',
    reason: "virsh runs piped stdin as its interactive mode and echoes the banner, prompts and commands; virtkit prints only the commands' output",
  },
  { argv: ['domid', 'test', ';', 'domid', 'test'], reason: "virtkit splits an argv command at a standalone ';' (virsh treats it as data)" },
  { argv: s('help dominfo'), reason: "virtkit's --json option (domblklist, domiflist, dominfo, list too)" },
  { argv: s('dominfo --help'), reason: "virtkit's --json option" },
  { argv: s('define {vm}; start vm1; suspend vm1; suspend vm1'), reason: "libvirt's test driver says 'domain not running' for a paused domain; virtkit says it is already paused" },
  { argv: s('define {bad}'), reason: "XML syntax errors are worded by virtkit's parser, not libxml2's" },
  { argv: s('help start'), reason: 'virtkit has no --console, --pass-fds, --reset-nvram options yet' },
  { argv: s('help undefine'), reason: 'virtkit manages no storage volumes: no --storage, --remove-all-storage, --wipe-storage' },
  { argv: s('help echo'), reason: "virsh's help calls echo 'Used for internal testing'; virtkit's own description" },
  { argv: s('help'), reason: 'virtkit has fewer commands' },
  ...['detach-device', 'detach-device-alias', 'detach-disk', 'detach-interface'].map((c) => ({
    argv: s(`help ${c}`),
    reason: "the hot-plug contract's --wait, --if-present, --resend and --isolate options (virtkit extensions)",
  })),
  { argv: s('help define'), reason: "the hot-plug contract's --hotplug-slots option (virtkit extension)" },
];

// Each case waits on two child processes: a few at once keep the 2 cores busy without crowding them.
describe('virtkit and virsh give the same output', { concurrency: 4, skip: hasVirsh || process.env.CI ? false : 'virsh is not installed (apt-get install libvirt-clients)' }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'virtkit-compare-'));
    for (const [name, text] of Object.entries(FIXTURES)) {
      files[name] = join(dir, `${name}.xml`);
      await writeFile(files[name]!, text);
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  for (const c of SAME) {
    const label = (c.raw ? c.argv : ['-c', 'test:///default', ...c.argv]).map((w) => (/[\s;'"]|^$/.test(w) ? JSON.stringify(w) : w)).join(' ');
    it(`${c.env ? `${Object.entries(c.env).map(([k, v]) => `${k}=${v}`).join(' ')} ` : ''}${label}`, async () => {
      const { virsh, virtkit } = await both(c);
      assert.deepEqual(virtkit, virsh);
    });
  }

  for (const c of DIFFERENT) {
    it(`differs on purpose: ${c.argv.join(' ') || '(stdin)'} — ${c.reason}`, async () => {
      const { virsh, virtkit } = await both(c);
      assert.notDeepEqual(virtkit, virsh, 'now equal: move this case to SAME');
    });
  }
});

export { DIFFERENT, SAME };
