// @ts-check
/**
 * The define cycle of `npm run bench` (defineXML + getXMLDesc + undefine on test:///default, bench/domain.xml)
 * for bench/define-instructions.sh: W warm-up cycles, then callgrind's instrumentation switched on for N cycles.
 * Not run on its own.
 *
 *   DIST=path/to/dist/index.js W=10000 N=1000 node bench/define-loop.mjs   (under valgrind --instr-atstart=no)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const dist = process.env.DIST ?? new URL('../dist/index.js', import.meta.url).pathname;
const api = /** @type {typeof import('../src/index.js')} */ (await import(pathToFileURL(dist).href));
const xml = readFileSync(new URL('./domain.xml', import.meta.url), 'utf8');
const at = xml.indexOf('<name>bench-template</name>');
if (at < 0) throw new Error('bench/domain.xml: expected <name>bench-template</name>');
const head = xml.slice(0, at);
const tail = xml.slice(at + '<name>bench-template</name>'.length);
const conn = await api.Connection.open('test:///default');
let counter = 0;
/** @param {number} n */
async function cycles(n) {
  for (let i = 0; i < n; i++) {
    const dom = await conn.defineXML(`${head}<name>bench-${counter++}</name>${tail}`);
    await dom.getXMLDesc(0);
    await dom.undefine();
  }
}
await cycles(Number(process.env.W ?? 10000));
execFileSync('callgrind_control', ['-i', 'on', String(process.pid)], { stdio: 'ignore' });
await cycles(Number(process.env.N ?? 1000));
execFileSync('callgrind_control', ['-i', 'off', String(process.pid)], { stdio: 'ignore' });
