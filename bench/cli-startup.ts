/**
 * Start-up time of the `virtkit` command against virsh's, in one run, on the same commands
 * against each tool's embedded test:///default driver. `npm run bench:cli` (build, then this
 * file under tsx). Not a test, not run in CI.
 *
 * Wall time: every round runs each row once, rows interleaved, so a machine whose load changes
 * during the run slows every row alike; the table shows the median and the 90th percentile.
 * CPU time: one `bash -c` per row runs the command RUNS times and reads its children's
 * user+system time with `times` (no rusage API in Node), divided by RUNS.
 * `node -e 0` is the floor any Node.js program pays before its first line runs.
 *
 *   node --import tsx bench/cli-startup.ts [--runs N] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const BUNDLE = here('../dist/cli/bundle/cli.cjs');
const LAUNCHER = here('../dist/cli/virtkit.cjs');
const TSC_MAIN = here('../dist/cli/main.js');
const VIRSH = '/usr/bin/virsh';

const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 40;
const json = process.argv.includes('--json');

interface Row {
  label: string;
  argv: string[];
}

const URI = ['-c', 'test:///default'];
const node = process.execPath;
const rows: Row[] = [
  { label: 'virsh dominfo test', argv: [VIRSH, ...URI, 'dominfo', 'test'] },
  { label: 'virtkit dominfo test', argv: [node, LAUNCHER, ...URI, 'dominfo', 'test'] },
  { label: 'virsh list --all', argv: [VIRSH, ...URI, 'list', '--all'] },
  { label: 'virtkit list --all', argv: [node, LAUNCHER, ...URI, 'list', '--all'] },
  { label: 'node -e 0 (floor)', argv: [node, '-e', '0'] },
  { label: 'virtkit dominfo, tsc output (no bundle)', argv: [node, TSC_MAIN, ...URI, 'dominfo', 'test'] },
];

function check(): void {
  for (const f of [BUNDLE, LAUNCHER, TSC_MAIN]) if (!existsSync(f)) throw new Error(`${f} is missing: run 'npm run build' first`);
  if (!existsSync(VIRSH)) throw new Error(`${VIRSH} is missing: apt-get install --no-install-recommends libvirt-clients`);
  for (const r of rows) {
    const p = spawnSync(r.argv[0]!, r.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
    if (p.status !== 0) throw new Error(`${r.label} failed (${p.status}): ${p.stderr.toString()}`);
  }
}

/** No inherited default-URI variables: both tools must open their test driver. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const v of ['VIRSH_DEFAULT_CONNECT_URI', 'LIBVIRT_DEFAULT_URI', 'VIRTKIT_DEFAULT_URI']) delete env[v];
  return env;
}

function wallTimes(): number[][] {
  const times: number[][] = rows.map(() => []);
  const env = cleanEnv();
  for (let round = 0; round < RUNS; round++) {
    // Rotate the order each round so no row always runs right after another.
    for (let k = 0; k < rows.length; k++) {
      const i = (round + k) % rows.length;
      const r = rows[i]!;
      const t0 = process.hrtime.bigint();
      spawnSync(r.argv[0]!, r.argv.slice(1), { stdio: 'ignore', env });
      times[i]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return times;
}

/** Children's user+system ms per run, from bash's `times` after RUNS runs. */
function cpuTime(r: Row): number {
  const script = 'for ((i = 0; i < $0; i++)); do "$@" >/dev/null 2>&1; done; times';
  const p = spawnSync('bash', ['-c', script, String(RUNS), ...r.argv], { env: cleanEnv(), encoding: 'utf8' });
  // `times` prints the shell's line, then the children's: "0m1.234s 0m0.567s".
  const line = p.stdout.trim().split('\n').at(-1) ?? '';
  const secs = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return ((secs[0] ?? Number.NaN) + (secs[1] ?? Number.NaN)) * 1000 / RUNS;
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

check();
const wall = wallTimes();
const cpu = rows.map(cpuTime);
const results = rows.map((r, i) => ({ label: r.label, wallMedianMs: quantile(wall[i]!, 0.5), wallP90Ms: quantile(wall[i]!, 0.9), cpuMs: cpu[i]! }));
const virsh = results[0]!;
const ms = (v: number): string => v.toFixed(1);

console.log(`virtkit CLI start-up vs virsh ${spawnSync(VIRSH, ['--version']).stdout.toString().trim()}, node ${process.version}, ${os.cpus().length} CPUs, ${RUNS} runs per row, load ${os.loadavg()[0]!.toFixed(2)}\n`);
console.log('| command | wall median | wall p90 | CPU (user+sys) | wall vs virsh dominfo | CPU vs virsh dominfo |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(`| \`${r.label}\` | ${ms(r.wallMedianMs)} ms | ${ms(r.wallP90Ms)} ms | ${ms(r.cpuMs)} ms | ${(r.wallMedianMs / virsh.wallMedianMs).toFixed(1)}x | ${(r.cpuMs / virsh.cpuMs).toFixed(1)}x |`);
}
const vk = results[1]!;
const floor = results[4]!;
console.log(
  `\nvirtkit above the Node.js floor: ${ms(vk.wallMedianMs - floor.wallMedianMs)} ms wall, ${ms(vk.cpuMs - floor.cpuMs)} ms CPU. ` +
    `Target (issue 9): virtkit dominfo at most 2.5x virsh's wall time: ${vk.wallMedianMs <= 2.5 * virsh.wallMedianMs ? 'met' : 'not met'} ` +
    `(${(vk.wallMedianMs / virsh.wallMedianMs).toFixed(1)}x; the floor alone is ${(floor.wallMedianMs / virsh.wallMedianMs).toFixed(1)}x).`,
);
if (json) console.log(JSON.stringify(results, null, 2));
