/**
 * virtkitd against libvirtd over a unix socket, in one run, both serving their test driver:
 *
 * - the virsh command loop of feasibility.md §5 (one virsh session reading N x define + dumpxml +
 *   domiflist + undefine on stdin; ops/s including virsh's start), and
 * - python3-libvirt getXMLDesc calls/s on one defined domain.
 *
 * The loop is a strict request/reply chain of ten calls per iteration, so virsh's own work and the
 * wake-ups between the two processes are in every daemon's figure. To show how much of it is left
 * for a daemon to win, the loop also runs against its floor (bench/rpc-floor.mjs): a daemon doing
 * no work, answering each call with virtkitd's recorded reply. Per iteration, the CPU time of virsh
 * and of each daemon (the daemons' from /proc, virsh's as this process's reaped children's).
 *
 * libvirtd is Debian's 9.0 (`/usr/sbin/libvirtd`, private config and sockets, no driver modules,
 * so only its built-in test driver); virtkitd is the built `dist/daemon/main.js`. Runs alternate
 * between the two daemons; each figure is the median of REPS runs. Not a test; CI does not run it.
 *
 *   npm run bench:remote [-- --quick] [-- --json]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PYTHON, run, startDaemonProcess, startLibvirtd, tempDir, VIRSH } from '../test/remote/peers.js';

const quick = process.argv.includes('--quick');
const REPS = 3;
const LOOP_ITERATIONS = quick ? 200 : 2000;
/**
 * Uncounted loop iterations before the measured runs, the same for every daemon. virtkitd reaches its steady state
 * (V8 done compiling the hot paths on its helper threads, which otherwise take CPU from virsh) after ~3,000 iterations;
 * with 100 it was still compiling during the first measured runs (daemon CPU per iteration 1.3-1.6 ms, then 0.7-0.9).
 */
const WARM_ITERATIONS = 3000;
const XMLDESC_CALLS = quick ? 2000 : 20_000;
const PY_SCRIPT = fileURLToPath(new URL('./remote_xmldesc.py', import.meta.url));
const CLIENT_CYCLES = quick ? 500 : 5000;
const DIST_INDEX = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const FLOOR = fileURLToPath(new URL('./rpc-floor.mjs', import.meta.url));
/** Linux's USER_HZ: the unit of the CPU times in /proc. */
const TICK_MS = 10;

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

/** Fields of /proc/PID/stat after the command name (which may hold spaces). */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU time (user + system, all threads) process `pid` has used so far, in ms. */
function cpuMs(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

/** CPU time of this process's children that have exited and been waited for, in ms. */
function reapedChildrenCpuMs(): number {
  const f = statFields('self');
  return (Number(f[13]) + Number(f[14])) * TICK_MS;
}

interface LoopRun {
  opsPerSecond: number;
  /** Per loop iteration (four commands, ten calls). */
  virshCpuMs: number;
  daemonCpuMs: number;
}

async function virshLoop(uri: string, script: string, n: number, daemonPid: number): Promise<LoopRun> {
  const virsh0 = reapedChildrenCpuMs();
  const daemon0 = cpuMs(daemonPid);
  const t = performance.now();
  const r = await run(VIRSH, ['-c', uri], script, 10 * 60_000, { ...process.env, LC_ALL: 'C' });
  const ms = performance.now() - t;
  const daemonCpuMs = (cpuMs(daemonPid) - daemon0) / n;
  const virshCpuMs = (reapedChildrenCpuMs() - virsh0) / n;
  const defined = (r.stdout.match(/defined from/g) ?? []).length;
  if (r.code !== 0 || defined !== n) throw new Error(`virsh loop on ${uri}: exit ${r.code}, ${defined}/${n} defined: ${r.stderr.slice(-500)}`);
  return { opsPerSecond: (n * 4 * 1000) / ms, virshCpuMs, daemonCpuMs };
}

/** Starts bench/rpc-floor.mjs in `mode` and waits for it to listen. */
async function startFloor(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [FLOOR, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`rpc-floor.mjs ${args[0]} exited with ${code}`)));
  });
  return child;
}

/**
 * Runs `script` against virtkitd through the recorder, then starts the floor daemon answering with
 * the replies kept (each procedure's in turn, from the first again once used up).
 */
async function startFloorDaemon(dir: string, virtkitdSocket: string, script: string, n: number): Promise<{ socket: string; child: ChildProcess }> {
  const replies = join(dir, 'floor-replies');
  const recorder = await startFloor(['record', join(dir, 'record-sock'), virtkitdSocket, replies]);
  const exited = new Promise((resolve) => recorder.once('exit', resolve));
  await virshLoop(`test+unix:///default?socket=${join(dir, 'record-sock')}`, script, n, recorder.pid!);
  await exited;
  const socket = join(dir, 'floor-sock');
  return { socket, child: await startFloor(['replay', socket, replies]) };
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

const SIDES = ['libvirtd', 'virtkitd', 'floor'] as const;
type Side = (typeof SIDES)[number];

async function main(): Promise<void> {
  const { dir, cleanup } = tempDir('virtkit-bench-remote-');
  const [lv, vk] = await Promise.all([startLibvirtd(), startDaemonProcess()]);
  let floor: ChildProcess | undefined;
  const fresh = () => ({ loop: [] as LoopRun[], xml: [] as number[], client: [] as number[] });
  const results: Record<Side, ReturnType<typeof fresh>> = { libvirtd: fresh(), virtkitd: fresh(), floor: fresh() };
  try {
    const script = virshScript(dir, LOOP_ITERATIONS);
    // Warm-up, not counted: a long-running daemon has its code compiled (V8's JIT; libvirtd's pages faulted in).
    // virtkitd's warm-up loop goes through the floor's recorder, which keeps the replies the floor sends.
    const warm = virshScript(dir, WARM_ITERATIONS);
    const f = await startFloorDaemon(dir, vk.socket, warm, WARM_ITERATIONS);
    floor = f.child;
    const uris: Record<Side, string> = {
      libvirtd: `test+unix:///default?socket=${lv.socket}`,
      virtkitd: `test+unix:///default?socket=${vk.socket}`,
      floor: `test+unix:///default?socket=${f.socket}`,
    };
    const pids: Record<Side, number> = { libvirtd: Number(readFileSync(join(lv.dir, 'libvirtd.pid'), 'utf8').trim()), virtkitd: vk.child.pid!, floor: floor.pid! };
    for (const side of SIDES) {
      if (side !== 'virtkitd') await virshLoop(uris[side], warm, WARM_ITERATIONS, pids[side]);
      if (side === 'floor') continue;
      await pyXmlDesc(uris[side], 2000);
      await clientCycles(uris[side], 200);
    }
    for (let rep = 0; rep < REPS; rep++) {
      for (const side of rep % 2 ? ([...SIDES].reverse() as Side[]) : SIDES) {
        results[side].loop.push(await virshLoop(uris[side], script, LOOP_ITERATIONS, pids[side]));
        if (side === 'floor') continue;
        results[side].xml.push(await pyXmlDesc(uris[side], XMLDESC_CALLS));
        results[side].client.push(await clientCycles(uris[side], CLIENT_CYCLES));
      }
    }
  } finally {
    floor?.kill('SIGTERM');
    await Promise.all([lv.stop(), vk.stop()]);
    cleanup();
  }
  const loop = (side: Side, key: keyof LoopRun): number => median(results[side].loop.map((r) => r[key]));
  const rows = [
    ['virsh loop ops/s (define, dumpxml, domiflist, undefine)', loop('libvirtd', 'opsPerSecond'), loop('virtkitd', 'opsPerSecond')],
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
  const ms = (x: number): string => x.toFixed(3);
  console.log('\nvirsh loop against each daemon and against one doing no work (the floor: what virsh and the wake-ups leave); medians, per iteration of 4 commands / 10 calls:\n');
  console.log('| | libvirtd 9.0 | virtkitd | floor (no work) |');
  console.log('|---|---:|---:|---:|');
  console.log(`| ops/s | ${SIDES.map((s) => int(loop(s, 'opsPerSecond'))).join(' | ')} |`);
  console.log(`| ratio to libvirtd | ${SIDES.map((s) => `${(loop(s, 'opsPerSecond') / loop('libvirtd', 'opsPerSecond')).toFixed(2)}x`).join(' | ')} |`);
  console.log(`| wall ms | ${SIDES.map((s) => ms(4000 / loop(s, 'opsPerSecond'))).join(' | ')} |`);
  console.log(`| virsh CPU ms | ${SIDES.map((s) => ms(loop(s, 'virshCpuMs'))).join(' | ')} |`);
  console.log(`| daemon CPU ms | ${SIDES.map((s) => ms(loop(s, 'daemonCpuMs'))).join(' | ')} |`);
  const load = (await import('node:os')).loadavg()[0]!;
  console.log(`\nload average during the run: ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} CPUs`);
  if (process.argv.includes('--json')) console.log(JSON.stringify(results));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
