/**
 * virtkitd against libvirtd over a unix socket, in one run, both serving their test driver:
 *
 * - the virsh command loop of feasibility.md §5 (one virsh session reading N x define + dumpxml +
 *   domiflist + undefine on stdin; ops/s including virsh's start), and
 * - python3-libvirt getXMLDesc calls/s on one defined domain.
 *
 * libvirtd is Debian's 9.0 (`/usr/sbin/libvirtd`, private config and sockets, no driver modules,
 * so only its built-in test driver); virtkitd is the built `dist/daemon/main.js`. Runs alternate
 * between the two daemons; each figure is the median of REPS runs. Not a test; CI does not run it.
 *
 *   npm run bench:remote [-- --quick] [-- --json]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON, run, startDaemonProcess, startLibvirtd, tempDir, VIRSH } from '../test/remote/peers.js';

const quick = process.argv.includes('--quick');
const REPS = 3;
const LOOP_ITERATIONS = quick ? 200 : 2000;
const XMLDESC_CALLS = quick ? 2000 : 20_000;
const PY_SCRIPT = fileURLToPath(new URL('./remote_xmldesc.py', import.meta.url));
const CLIENT_CYCLES = quick ? 500 : 5000;
const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The command script of feasibility-scripts/virsh-loop.sh, written once. */
function virshScript(dir: string, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const xml = join(dir, `d${i}.xml`);
    writeFileSync(
      xml,
      `<domain type='test'><name>t${i}</name><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices><interface type='network'><source network='default'/></interface><disk type='file' device='disk'><source file='/tmp/x${i}.img'/><target dev='vda' bus='virtio'/></disk></devices></domain>\n`,
    );
    lines.push(`define ${xml}`, `dumpxml t${i}`, `domiflist t${i}`, `undefine t${i}`);
  }
  return `${lines.join('\n')}\n`;
}

async function virshLoop(uri: string, script: string, n: number): Promise<number> {
  const t = performance.now();
  const r = await run(VIRSH, ['-c', uri], script, 10 * 60_000, { ...process.env, LC_ALL: 'C' });
  const ms = performance.now() - t;
  const defined = (r.stdout.match(/defined from/g) ?? []).length;
  if (r.code !== 0 || defined !== n) throw new Error(`virsh loop on ${uri}: exit ${r.code}, ${defined}/${n} defined: ${r.stderr.slice(-500)}`);
  return (n * 4 * 1000) / ms;
}

async function pyXmlDesc(uri: string, n: number): Promise<number> {
  const r = await run(PYTHON, [PY_SCRIPT, uri, String(n)], '', 10 * 60_000);
  if (r.code !== 0) throw new Error(`python3-libvirt on ${uri}: ${r.stderr.slice(-500)}`);
  return (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { callsPerSecond: number }).callsPerSecond;
}

/** virtkit's own remote driver (the built package, in a plain node child): define + getXMLDesc + undefine cycles/s. */
async function clientCycles(uri: string, n: number): Promise<number> {
  const code = `
    const { Connection } = await import(${JSON.stringify(DIST_INDEX)});
    const conn = await Connection.open(process.argv[1]);
    const xml = (i) => "<domain type='test'><name>cyc" + i + "</name><memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>";
    for (let i = 0; i < 200; i++) { const d = await conn.defineXML(xml(i)); await d.getXMLDesc(); await d.undefine(); }
    const n = Number(process.argv[2]);
    const t = performance.now();
    for (let i = 0; i < n; i++) { const d = await conn.defineXML(xml(i)); await d.getXMLDesc(); await d.undefine(); }
    const ms = performance.now() - t;
    await conn.close();
    console.log(JSON.stringify({ cyclesPerSecond: (n * 1000) / ms }));`;
  const r = await run(process.execPath, ['--input-type=module', '-e', code, uri, String(n)], '', 10 * 60_000);
  if (r.code !== 0) throw new Error(`virtkit client on ${uri}: ${r.stderr.slice(-500)}`);
  return (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { cyclesPerSecond: number }).cyclesPerSecond;
}

const int = (x: number): string => Math.round(x).toLocaleString('en-US');

async function main(): Promise<void> {
  const { dir, cleanup } = tempDir('virtkit-bench-remote-');
  const [lv, vk] = await Promise.all([startLibvirtd(), startDaemonProcess()]);
  const uris = { libvirtd: `test+unix:///default?socket=${lv.socket}`, virtkitd: `test+unix:///default?socket=${vk.socket}` };
  const fresh = () => ({ loop: [] as number[], xml: [] as number[], client: [] as number[] });
  const results = { libvirtd: fresh(), virtkitd: fresh() };
  try {
    const script = virshScript(dir, LOOP_ITERATIONS);
    // Warm-up, not counted: a long-running daemon has its code compiled (V8's JIT; libvirtd's pages faulted in).
    const warm = `${script.split('\n').slice(0, 400).join('\n')}\n`;
    for (const side of ['libvirtd', 'virtkitd'] as const) {
      await virshLoop(uris[side], warm, 100);
      await pyXmlDesc(uris[side], 2000);
      await clientCycles(uris[side], 200);
    }
    for (let rep = 0; rep < REPS; rep++) {
      for (const side of rep % 2 ? (['virtkitd', 'libvirtd'] as const) : (['libvirtd', 'virtkitd'] as const)) {
        results[side].loop.push(await virshLoop(uris[side], script, LOOP_ITERATIONS));
        results[side].xml.push(await pyXmlDesc(uris[side], XMLDESC_CALLS));
        results[side].client.push(await clientCycles(uris[side], CLIENT_CYCLES));
      }
    }
  } finally {
    await Promise.all([lv.stop(), vk.stop()]);
    cleanup();
  }
  const rows = [
    ['virsh loop ops/s (define, dumpxml, domiflist, undefine)', median(results.libvirtd.loop), median(results.virtkitd.loop)],
    ['python3-libvirt getXMLDesc calls/s', median(results.libvirtd.xml), median(results.virtkitd.xml)],
    ["virtkit's remote driver: define+getXMLDesc+undefine cycles/s (context)", median(results.libvirtd.client), median(results.virtkitd.client)],
  ] as const;
  console.log(`\nvirtkitd vs libvirtd ${quick ? '(quick) ' : ''}over a unix socket, test driver, median of ${REPS}: ${LOOP_ITERATIONS} loop iterations, ${XMLDESC_CALLS} XMLDesc calls, ${CLIENT_CYCLES} client cycles\n`);
  console.log('| metric | libvirtd 9.0 | virtkitd | ratio | target | met? |');
  console.log('|---|---:|---:|---:|---|---|');
  for (const [metric, lib, vkd] of rows) {
    const ratio = vkd / lib;
    const context = metric.endsWith('(context)');
    console.log(`| ${metric} | ${int(lib)} | ${int(vkd)} | ${ratio.toFixed(2)}x | ${context ? '-' : '>= 2x'} | ${context ? '-' : ratio >= 2 ? 'yes' : 'NO'} |`);
  }
  const load = (await import('node:os')).loadavg()[0]!;
  console.log(`\nload average during the run: ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} CPUs`);
  if (process.argv.includes('--json')) console.log(JSON.stringify(results));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
