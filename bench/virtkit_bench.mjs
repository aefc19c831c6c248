// @ts-check
/**
 * virtkit's column of bench/run.ts: the test driver, in-process, through the built `dist/`.
 *
 * Plain JavaScript on purpose, run by plain `node --expose-gc` with no loader: a tsx loader
 * would add its hooks thread and transpiler to the process whose RSS is measured.
 * Types come from src/ (checked by `npx tsc -p bench/tsconfig.json`), code from dist/.
 * Prints one JSON object on stdout and nothing else.
 *
 *   node --expose-gc bench/virtkit_bench.mjs throughput DOMAIN_XML DEFINE_CYCLES XMLDESC_CALLS ATTACH_CYCLES REPS
 *   node --expose-gc bench/virtkit_bench.mjs memory     DOMAIN_XML DOMAINS
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const URI = 'test:///default';
const TEMPLATE_NAME = '<name>bench-template</name>';
/** The hot-plugged NIC. A fixed MAC makes the same XML match the device again on detach. */
const IFACE_MAC = '52:54:00:be:0c:01';
const IFACE_XML = `<interface type='network'><mac address='${IFACE_MAC}'/><source network='default'/><model type='virtio'/></interface>`;

/** @typedef {typeof import('../src/index.js')} Api */
/** @typedef {import('../src/index.js').Connection} Connection */
/** @typedef {import('../src/index.js').Domain} Domain */

const api = /** @type {Api} */ (await import(new URL('../dist/index.js', import.meta.url).href));

/** @returns {void} */
function collect() {
  const gc = /** @type {undefined | (() => void)} */ (globalThis.gc);
  if (!gc) throw new Error('run node with --expose-gc');
  gc();
  gc();
}

/**
 * RSS once the process has settled: for at least 8 s, rounds of a little allocation (as an idle
 * program does), a full GC and a 200 ms pause, until two reads agree within 256 KiB (at most 15 s).
 * V8 gives pages back on background threads after a GC, and shrinks a young generation that grew
 * during a burst of work only once it has seen low but non-zero allocation for a few seconds (a
 * forced GC with no allocation at all never shrinks it): a read right after the 10,000 defines
 * counts up to 32 MiB of empty young generation the process gives back seconds later.
 * The Python side settles the same way, for the same time.
 * @returns {Promise<number>}
 */
async function settledRssKiB() {
  const started = performance.now();
  let prev = Number.POSITIVE_INFINITY;
  for (;;) {
    Array.from({ length: 200 }, (_, i) => ({ i }));
    collect();
    await sleep(200);
    const rss = vmRssKiB();
    const elapsed = performance.now() - started;
    if ((elapsed >= 8000 && Math.abs(rss - prev) < 256) || elapsed >= 15000) return rss;
    prev = rss;
  }
}

/** @returns {number} */
function vmRssKiB() {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync('/proc/self/status', 'ascii'));
  if (!m) throw new Error('no VmRSS in /proc/self/status');
  return Number(m[1]);
}

/** @param {string} path @returns {(i: number | string) => string} */
function loadTemplate(path) {
  const xml = readFileSync(path, 'utf8');
  const at = xml.indexOf(TEMPLATE_NAME);
  if (at < 0) throw new Error(`${path}: expected ${TEMPLATE_NAME}`);
  const head = xml.slice(0, at);
  const tail = xml.slice(at + TEMPLATE_NAME.length);
  return (i) => `${head}<name>bench-${i}</name>${tail}`;
}

/** Runs fn(n) once; operations per second. @param {number} n @param {(n: number) => Promise<void>} fn */
async function rate(n, fn) {
  const t0 = process.hrtime.bigint();
  await fn(n);
  return n / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** @param {number[]} xs */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** @param {number} n @param {number[]} runs */
function summary(n, runs) {
  return { n, runs, median: median(runs) };
}

/**
 * @param {string} xmlPath @param {number} defineCycles @param {number} xmlDescCalls
 * @param {number} attachCycles @param {number} reps
 */
async function throughput(xmlPath, defineCycles, xmlDescCalls, attachCycles, reps) {
  const make = loadTemplate(xmlPath);
  const conn = await api.Connection.open(URI);
  let counter = 0;

  /** @param {number} n */
  const cycles = async (n) => {
    const end = counter + n;
    for (let i = counter; i < end; i++) {
      const dom = await conn.defineXML(make(i));
      await dom.getXMLDesc(0);
      await dom.undefine();
    }
    counter = end;
  };

  const shutOff = await conn.defineXML(make('xmldesc'));
  const sampleXml = await shutOff.getXMLDesc(0);
  /** @param {number} n */
  const xmlDesc = async (n) => {
    for (let i = 0; i < n; i++) await shutOff.getXMLDesc(0);
  };

  const running = await conn.defineXML(make('hotplug'));
  await running.create();
  const LIVE = api.DeviceModify.LIVE;
  /** @param {number} n */
  const hotplug = async (n) => {
    for (let i = 0; i < n; i++) {
      await running.attachDeviceFlags(IFACE_XML, LIVE);
      await running.getXMLDesc(0);
      await running.detachDeviceFlags(IFACE_XML, LIVE);
    }
  };
  // One checked cycle first: the loop below would otherwise time a failure path. A failure here
  // is reported in the result (the other figures still count), not thrown.
  /** @type {string | null} */ let hotplugError = null;
  /** @type {{ alias?: string } | null} */ let attached = null;
  let liveXml = '';
  try {
    attached = await running.attachDeviceFlags(IFACE_XML, LIVE);
    liveXml = await running.getXMLDesc(0);
    if (!liveXml.includes(IFACE_MAC)) throw new Error('attached interface is missing from the live XML');
    const detached = await running.detachDeviceFlags(IFACE_XML, LIVE);
    if (detached.outcome !== 'removed') throw new Error(`detach outcome '${detached.outcome}', expected 'removed'`);
    if ((await running.getXMLDesc(0)).includes(IFACE_MAC)) throw new Error('detached interface is still in the live XML');
  } catch (err) {
    hotplugError = `${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }

  // Warm-up, then REPS timed runs of each; the median is what the table shows.
  await cycles(Math.max(1, Math.floor(defineCycles / 10)));
  await xmlDesc(Math.max(1, Math.floor(xmlDescCalls / 10)));
  if (!hotplugError) await hotplug(Math.max(1, Math.floor(attachCycles / 10)));
  /** @type {number[]} */ const defineRuns = [];
  /** @type {number[]} */ const xmlDescRuns = [];
  /** @type {number[]} */ const hotplugRuns = [];
  for (let r = 0; r < reps; r++) {
    collect();
    defineRuns.push(await rate(defineCycles, cycles));
    collect();
    xmlDescRuns.push(await rate(xmlDescCalls, xmlDesc));
    if (hotplugError) continue;
    collect();
    hotplugRuns.push(await rate(attachCycles, hotplug));
  }
  await running.destroy();
  await running.undefine();
  await shutOff.undefine();
  await conn.close();
  return {
    defineCycles: summary(defineCycles, defineRuns),
    xmlDesc: summary(xmlDescCalls, xmlDescRuns),
    hotplugCycles: hotplugError ? null : summary(attachCycles, hotplugRuns),
    hotplugError,
    xmlDescBytes: Buffer.byteLength(sampleXml),
    liveXmlWithNicBytes: Buffer.byteLength(liveXml),
    attachAlias: attached?.alias ?? null,
  };
}

/** @param {string} xmlPath @param {number} domains */
async function memory(xmlPath, domains) {
  const make = loadTemplate(xmlPath);
  const conn = await api.Connection.open(URI);
  const baseline = await settledRssKiB();
  for (let i = 0; i < domains; i++) await conn.defineXML(make(i));
  const loaded = await settledRssKiB();
  const mem = process.memoryUsage();
  // Also keeps `conn` (and so its domains) reachable until after the RSS read.
  const definedCount = (await conn.listAllDomains(api.ListDomains.INACTIVE)).length;
  // No cleanup: the process exits.
  return {
    domains,
    definedCount,
    baselineKiB: baseline,
    loadedKiB: loaded,
    heapUsedKiB: Math.round(mem.heapUsed / 1024),
    externalKiB: Math.round(mem.external / 1024),
  };
}

const [mode, ...args] = process.argv.slice(2);
/** @type {Record<string, unknown>} */
let result;
if (mode === 'throughput' && args.length === 5) {
  result = await throughput(args[0], Number(args[1]), Number(args[2]), Number(args[3]), Number(args[4]));
} else if (mode === 'memory' && args.length === 2) {
  result = await memory(args[0], Number(args[1]));
} else {
  process.stderr.write('usage: see the header of bench/virtkit_bench.mjs\n');
  process.exit(2);
}
result.runtime = { node: process.version, v8: process.versions.v8, execArgv: process.execArgv };
process.stdout.write(`${JSON.stringify(result)}\n`);
